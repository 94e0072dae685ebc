#!/usr/bin/env bash
# Every test DBS has, as CI runs it: installs what it needs, builds, and runs
#   0. the format check (scripts/format.sh --check);
#   1. the Swift suites (engine + the `dbs` binary end to end) with ISA-L, in release;
#   2. the same suites without ISA-L (--disable-default-traits: the portable SIMD
#      backend alone, what a platform without ISA-L runs), in release;
#   3. the engine's codec, container, payload and hostile-input suites under the address
#      sanitizer;
#      3c. coverage-guided fuzzing of the head, stripe-header and file decoders (libFuzzer);
#   4. the C ABI test program against libDBSC, plain and under valgrind;
#   4b. the test vectors read by an independent reader (scripts/test-vectors.sh);
#   5. dbs-bench's quick bit-rot and throughput runs (exit non-zero on any WRONG restore);
#   6. the README's main job (scripts/demo.sh), with its Django part;
#   7. the Django app's suite (scripts/test-django.sh: SQLite and PostgreSQL, Django 6).
# Each step's time is printed at the end (and when a step fails). Set DBS_TEST_ONLY=swift
# to stop after step 1 while iterating.
#
# Why release builds (docs/PERFORMANCE.md, "CI's time"): the sources have no `assert`
# (only preconditions, which -O keeps, as it keeps overflow and exclusivity checks), so
# a debug build checks nothing more, and its tests run 7x slower (290 s against 41 s
# for the whole suite on the 2-core machine). Release with -enable-testing (for
# @testable import) is also optimised as users' builds are. Step 1's build serves
# steps 5 and 6.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

timings=()
step_name="" step_started=0
end_step() {
    [ -n "$step_name" ] && timings+=("$(printf '%5ss  %s' $((SECONDS - step_started)) "${step_name%%:*}")")
    step_name=""
}
step() { end_step; step_name=$*; step_started=$SECONDS; printf '\n== %s\n' "$*"; }
report_times() {
    local status=$?
    end_step
    printf '\n== time per step%s\n' "$( ((status)) && echo " (stopped by a failure in the last one)")"
    printf '  %s\n' "${timings[@]}"
    printf '  %5ss  total\n' $((SECONDS - started))
}
started=$SECONDS
trap report_times EXIT

# The one format (.swift-format; scripts/format.sh reformats in place). Cheap (a lint
# of every Swift file, ~10 s, no build), so it runs first.
step "0. swift format lint (.swift-format, scripts/format.sh --check)"
bash scripts/format.sh --check

step "1. swift test (default traits: ISA-L on), release"
release=(-c release -Xswiftc -enable-testing)
swift build --build-tests "${release[@]}"
# The two memory-bound tests read the process's peak RSS, so they run in a process of
# their own, one after the other: beside the other suites in parallel, another test's
# allocations counted against them (the 1 GiB sparse file "exceeded" 512 MiB once).
bounded=(--filter 'BoundedMemory' --no-parallel)
swift test --skip-build "${release[@]}" --skip 'BoundedMemory'
swift test --skip-build "${release[@]}" "${bounded[@]}"
[ "${DBS_TEST_ONLY:-}" = swift ] && exit 0

step "2. swift test --disable-default-traits (no ISA-L: simd backend only), release"
noisal=(--disable-default-traits --scratch-path .build-noisal "${release[@]}")
swift build --build-tests "${noisal[@]}"
swift test --skip-build "${noisal[@]}" --skip 'BoundedMemory'
swift test --skip-build "${noisal[@]}" "${bounded[@]}"

step "3. address sanitizer: codec, kernels, container, payload, file trees, hostile input"
# Optimised (-c release), as sanitizer builds usually are: the instrumentation checks
# every load and store that survives optimisation, and the suites run several times
# faster than at -Onone.
asan=(--sanitize=address --scratch-path .build-asan "${release[@]}")
swift build --build-tests "${asan[@]}"
# LeakSanitizer flags allocations inside Foundation's Process; leaks are checked by
# valgrind on the C ABI (step 4). Here: invalid accesses only. Memory-bound assertions
# (peak RSS, in this process or a child's) do not hold with the sanitizer's shadow
# memory, and LayoutScanTests' time bounds are for an uninstrumented build.
# DBS_FUZZ_REDUCED: FuzzReaderTests' 16-byte-shard shape runs 8 of its 30 mutations here
# (the first 8 of the same sequence); steps 1 and 2 ran all.
DBS_FUZZ_REDUCED=1 ASAN_OPTIONS=detect_leaks=0 swift test --skip-build "${asan[@]}" \
    --filter 'ReedSolomon|RSKernel|GF256|Container|Damage|Fuzz|Payload|FileTree|Checksum|Compression|Security' \
    --filter 'DescriptorVoteTests|GuardTests|KDFCostCapTests|PassphraseNormalizationTests|ShiftedStripeTests|TestVectorTests' \
    --skip 'BoundedMemory|restorePeakDoesNotGrow'

step "3c. coverage-guided fuzzing: head, stripe header, whole file (libFuzzer + address sanitizer)"
# A separate, self-contained step (issue 12): scripts/fuzz.sh builds its own instrumented
# executable with swiftc -sanitize=fuzzer,address (DBSKit's sources + Tests/Fuzz, into
# .build-fuzz; nothing shared with the steps above), writes the seed corpus with the
# engine, and runs each target for the given seconds. Fails on any crash, sanitizer
# report, broken invariant or timeout. Cost: the build (about 75 s of CPU) plus 3 x 30 s.
bash scripts/fuzz.sh 30 head stripe file

step "4. C ABI (libDBSC) test program, plain and under valgrind"
bash scripts/test-cabi.sh

step "4b. test vectors read by an independent reader (docs/TEST-VECTORS.md)"
# Issue 12 item 9. Self-contained: a venv of its own (.build/vectors-venv: argon2-cffi,
# cryptography, xxhash, zstandard from PyPI: 60-85 s when cold on this machine, nearly
# all of it waiting on the network; nothing when present), then about 2 s: both vectors
# read, four damaged variants healed, an erasure decode of a metadata block.
bash scripts/test-vectors.sh

step "5. dbs-bench --quick: bit rot (never WRONG) and throughput"
# Step 1's build (dbs-bench is one of its products): nothing is compiled again.
bench="$(swift build "${release[@]}" --show-bin-path)/dbs-bench"
"$bench" bitrot --quick
"$bench" throughput --quick

step "6. the main job: scripts/demo.sh"
# On step 1's build too (the README's `swift build -c release` with -enable-testing).
DBS_BUILD_FLAGS="${release[*]}" bash scripts/demo.sh

step "7. the Django app (Integrations/django-dbs): pytest on SQLite and PostgreSQL, Django 6"
bash scripts/test-django.sh

printf '\nall test steps passed in %ss\n' $((SECONDS - started))
