#!/usr/bin/env bash
# DBS on arm64 Linux, on an x86-64 Debian machine, under qemu user-mode emulation:
#   0. binfmt_misc: the kernel hands aarch64 binaries to qemu-aarch64-static;
#   1. an arm64 Debian root file system (debootstrap --foreign, second stage inside),
#      built once and reused, under a folder this script owns ($DBS_ARM64_ROOT);
#   2. the toolchain and libraries in it (Debian's swiftlang, libisal-dev, ...);
#   3. the working tree copied in (tracked and untracked files, not ignored ones);
#   4. on arm64: a probe (the kernels' sources alone, minutes: CPU features, ISA-L's
#      pick and the kernels against the scalar reference on three emulated CPUs), the
#      release build with ISA-L and the test suites, `dbs version`,
#      `dbs-bench bitrot --quick`, `dbs-bench throughput --quick`, the Swift suites
#      with ISA-L, the kernel suites again on three emulated CPUs (NEON only, SVE,
#      SVE2: each of ISA-L's arm64 code paths), the suites without ISA-L
#      (--disable-default-traits: the portable SIMD kernel alone), the plain release
#      build and the README's demo.
# Every step runs even if an earlier one failed (when it does not depend on it); the
# summary at the end lists each step's outcome, and the exit status is non-zero if any
# failed. Not part of CI: emulation makes it far too slow (hours on 2 cores). Figures
# measured under emulation say nothing about arm64 speed.
#
# Needs root (debootstrap, chroot, mounts) and the Debian packages debootstrap,
# qemu-user-static and binfmt-support. Runs everything under nice -n 19 / ionice -c3.
#
# Settings (environment):
#   DBS_ARM64_ROOT    the folder this script owns (default /var/tmp/dbs-arm64)
#   DBS_ARM64_SUITE   the Debian suite (default sid: the one carrying swiftlang for arm64)
#   DBS_ARM64_MIRROR  the Debian mirror (default http://deb.debian.org/debian)
#   DBS_ARM64_STEPS   the steps of part 4 to run, space-separated (default: all, in
#                     this order: probe build-isal version bitrot throughput demo
#                     test-isal cpu-cortex-a72 cpu-a64fx cpu-max test-noisal; and
#                     `build`, the plain release build, only when named)
#   DBS_ARM64_TEST_ARGS  extra arguments for both `swift test` runs (e.g. --filter X)
set -uo pipefail
cd "$(dirname "$0")/.."
source_tree=$PWD

root=${DBS_ARM64_ROOT:-/var/tmp/dbs-arm64}
suite=${DBS_ARM64_SUITE:-sid}
mirror=${DBS_ARM64_MIRROR:-http://deb.debian.org/debian}
all_steps="probe build-isal version bitrot throughput demo test-isal cpu-cortex-a72 cpu-a64fx cpu-max test-noisal"
steps=${DBS_ARM64_STEPS:-$all_steps}
rootfs=$root/rootfs
# What DBS builds, tests and runs its demo with, on arm64 (swiftlang does not pull in
# the C runtime files and libstdc++ its linker needs: libc6-dev, g++).
packages=(swiftlang libc6-dev g++ pkg-config libisal-dev libssl-dev libargon2-dev libzstd-dev libxxhash-dev
          libb2-dev python3 python3-venv zstd valgrind git ca-certificates)

log() { printf '[test-arm64 %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "error: $*" >&2; exit 1; }
low() { nice -n 19 ionice -c3 "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and bind mounts)"
for tool in debootstrap qemu-aarch64-static update-binfmts; do
    command -v "$tool" >/dev/null || die "$tool missing: apt-get install debootstrap qemu-user-static binfmt-support"
done
mkdir -p "$root"
exec 9>"$root/.lock"
flock -n 9 || die "another test-arm64.sh holds $root/.lock"

# 0. binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    log "mounting binfmt_misc"
    mount binfmt_misc -t binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 ||
    die "update-binfmts --enable qemu-aarch64 failed"
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || update-binfmts --enable qemu-aarch64
# The F flag: the kernel opens the interpreter at registration, so it works in a chroot.
grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
    die "qemu-aarch64's binfmt entry lacks the F flag; the chroot would not find the interpreter"

# 1. the root file system
if [ ! -e "$rootfs/.dbs-second-stage-done" ]; then
    if [ ! -e "$rootfs/debootstrap/debootstrap" ] && [ ! -e "$rootfs/.dbs-first-stage-done" ]; then
        log "debootstrap $suite arm64, first stage (native: downloads and unpacks)"
        low debootstrap --arch=arm64 --foreign --variant=minbase \
            --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$rootfs" "$mirror" ||
            die "debootstrap first stage failed (see $rootfs/debootstrap/debootstrap.log)"
        touch "$rootfs/.dbs-first-stage-done"
    fi
    log "debootstrap second stage (emulated: configures every package)"
    low chroot "$rootfs" /debootstrap/debootstrap --second-stage ||
        die "debootstrap second stage failed (see $rootfs/debootstrap/debootstrap.log)"
    touch "$rootfs/.dbs-second-stage-done"
fi

mounted=()
unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null; done
}
trap unmount_all EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap unmounts on a kill too
bind() {  # bind <source> <target inside rootfs> [ro]
    mkdir -p "$rootfs$2"
    mountpoint -q "$rootfs$2" && return
    mount --bind "$1" "$rootfs$2" || die "cannot bind $1 to $rootfs$2"
    mounted+=("$rootfs$2")
    [ "${3:-}" = ro ] && mount -o remount,bind,ro "$rootfs$2"
}
mkdir -p "$rootfs/proc"
if ! mountpoint -q "$rootfs/proc"; then
    mount -t proc proc "$rootfs/proc" || die "cannot mount proc"; mounted+=("$rootfs/proc")
fi
bind /dev /dev
bind /dev/pts /dev/pts
bind /dev/shm /dev/shm
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
# The machine's trust store and pip's settings, as its resolver: the package registries
# may be reached through a proxy whose certificate authority only this machine trusts
# (the demo's pip failed with CERTIFICATE_VERIFY_FAILED without them).
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$rootfs/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
[ -s /etc/pip.conf ] && cp -L /etc/pip.conf "$rootfs/etc/pip.conf"
# The archive this machine reaches may be a frozen snapshot whose Release file has
# expired: apt would refuse it (debootstrap did not check). Every apt-get in the root
# (ours below, and install-deps.sh's and demo-django.sh's in the demo) reads this.
printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
    > "$rootfs/etc/apt/apt.conf.d/99dbs-frozen-archive"

in_arm64() { low chroot "$rootfs" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# 2. toolchain and libraries (idempotent: apt-get runs only when one is missing)
missing=()
for p in "${packages[@]}"; do
    in_arm64 dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing in arm64: ${missing[*]}"
    in_arm64 apt-get update -qq || die "apt-get update failed in the arm64 root"
    in_arm64 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed in the arm64 root"
fi

# Debian's swiftlang 6.2.3 ships swift-testing's Foundation overlay as a module
# (_Testing_Foundation.swiftmodule) without its library, so every test binary that
# imports both Testing and Foundation fails to link: "cannot find -l_Testing_Foundation".
# Our suites use nothing of the overlay (its Attachable conformances), so an empty
# library in its place satisfies the autolink; should a suite ever use the overlay, the
# link fails on the undefined symbol and names it.
swift_lib=/usr/libexec/swift/lib/swift/linux
if [ -e "$rootfs$swift_lib/_Testing_Foundation.swiftmodule" ] &&
    [ ! -e "$rootfs$swift_lib/lib_Testing_Foundation.so" ]; then
    log "swiftlang lacks lib_Testing_Foundation.so: an empty one stands in for the autolink"
    in_arm64 cc -shared -x c /dev/null -o "$swift_lib/lib_Testing_Foundation.so" ||
        die "cannot build the stand-in lib_Testing_Foundation.so"
fi

# Swift packages: no network to GitHub here. The machine's copies (git URL rewriting
# in the system git config) are bound read-only at the same path inside.
git config --system --get-regexp '^url\.' | while read -r key value; do
    printf '%s %s\n' "$key" "$value"
done > "$root/git-url-rewrites"
if [ -s "$root/git-url-rewrites" ]; then
    rm -f "$rootfs/etc/gitconfig"
    while read -r key value; do
        chroot "$rootfs" git config --system --add "$key" "$value"
        target=${key#url.}; target=${target%.insteadof}
        [ -d "$target" ] && bind "$target" "$target" ro
    done < "$root/git-url-rewrites"
    chroot "$rootfs" git config --system --add safe.directory '*'
fi

# 3. the working tree, copied in. Build folders inside the copy survive between runs,
# so an unchanged tree rebuilds incrementally (tar keeps the files' times).
work=$rootfs/work/dbs
mkdir -p "$work"
find "$work" -mindepth 1 -maxdepth 1 ! -name '.build*' -exec rm -rf {} +
git -C "$source_tree" ls-files -z --cached --others --exclude-standard |
    tar -C "$source_tree" --null --ignore-failed-read -T - -cf - | tar -C "$work" -xf - ||
    die "copying the working tree failed"
log "working tree copied: $(git -C "$source_tree" rev-parse --short HEAD)$(git -C "$source_tree" diff --quiet || echo ' + local changes')"

# 4. on arm64
summary=()
run_step() {  # run_step <name> <shell command run in /work/dbs on arm64>
    local name=$1 started=$SECONDS status
    [[ " $steps " == *" $name "* ]] || return 0
    log "== $name: $2"
    in_arm64 /bin/bash -c "cd /work/dbs && $2"
    status=$?
    local outcome="passed"; ((status)) && outcome="FAILED (exit $status)"
    summary+=("$(printf '%-12s %-18s %6ss' "$name" "$outcome" $((SECONDS - started)))")
    log "== $name: $outcome in $((SECONDS - started))s"
    return $status
}
in_arm64 /bin/bash -c 'uname -m; swift --version 2>&1 | head -2'

# The suites run in release with testing enabled, as CI's no-ISA-L step: under
# emulation a debug build's kernels are too slow for the large streaming tests. The
# ISA-L test build comes first and its products serve `dbs version`, dbs-bench and the
# demo (the same code as the plain release build, with internal symbols visible; the
# demo's Django part gets its libDBSC through DBS_PREBUILT_LIBRARY), so everything but
# the no-ISA-L suites runs after one emulated build of the package (about 40 minutes
# of a quiet 2-core machine) instead of three. `build`, the plain release build, runs
# only when DBS_ARM64_STEPS names it.
test_args=${DBS_ARM64_TEST_ARGS:-}
isal="--scratch-path .build-test-isal -c release -Xswiftc -enable-testing"
noisal="--disable-default-traits --scratch-path .build-test-noisal -c release -Xswiftc -enable-testing"
bin=.build-test-isal/release
# The probe first: the kernels' sources alone (CPU features, ISA-L's dispatch, the
# scalar, SIMD and ISA-L kernels) in one small program, minutes instead of hours: the
# features, ISA-L's pick and the kernels checked against the scalar reference on each
# of qemu's CPU models below (its binary, not stripped, is kept for disassembly). The
# kernels import DBSSystem for the C library: the probe first makes a DBSSystem module
# of Platform.swift alone (the one platform import, no code), then the program.
gf=Sources/DBSReedSolomon/GF
kernels=Sources/DBSReedSolomon/RS/Kernels
probe_sources="$gf/GF256.swift $gf/GFMatrix.swift $kernels/RSKernel.swift \
    $kernels/ScalarKernel.swift $kernels/SIMDKernel.swift $kernels/ISALKernel.swift $kernels/CPUFeatures.swift \
    $kernels/ISALDispatch.swift scripts/arm64-probe/main.swift"
run_step probe "mkdir -p .build-probe && \
    swiftc -parse-as-library -module-name DBSSystem -emit-module -emit-module-path .build-probe/DBSSystem.swiftmodule \
        Sources/DBSSystem/Platform.swift && \
    swiftc -O -D ISAL -I CShims/CISAL -I .build-probe -package-name DBS -module-name DBSProbe \
    $probe_sources -o .build-probe/dbs-probe && \
    for cpu in cortex-a72 a64fx max; do echo \"QEMU_CPU=\$cpu\"; QEMU_CPU=\$cpu .build-probe/dbs-probe || exit 1; done"
if run_step build-isal "swift build --build-tests $isal"; then
    run_step version "$bin/dbs version && $bin/dbs version --json"
    run_step bitrot "$bin/dbs-bench bitrot --quick"
    run_step throughput "$bin/dbs-bench throughput --quick"
    run_step demo "DBS_BUILD_FLAGS='$isal' DBS_PREBUILT_LIBRARY=\$PWD/$bin/libDBSC.so bash scripts/demo.sh"
    run_step test-isal "swift test --skip-build $isal $test_args"
    # ISA-L picks its kernel from AT_HWCAP (SVE2, else SVE, else NEON); qemu's CPU
    # models give each path: cortex-a72 has NEON only, a64fx SVE without SVE2, max
    # SVE2. The kernel and codec suites run once per model.
    for cpu in cortex-a72 a64fx max; do
        run_step "cpu-$cpu" "export QEMU_CPU=$cpu; $bin/dbs version | sed -n '2,5p' && \\
            swift test --skip-build $isal --filter 'RSKernelTests|ReedSolomon|CPUFeaturesTests|BackendCalibrationTests'"
    done
fi
run_step test-noisal "swift build --build-tests $noisal && swift test --skip-build $noisal $test_args"
run_step build "swift build -c release"

log "summary (arm64 under qemu user emulation; timings say nothing about arm64 speed):"
printf '  %s\n' "${summary[@]}"
for line in "${summary[@]}"; do [[ $line == *FAILED* ]] && exit 1; done
exit 0
