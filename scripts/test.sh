#!/usr/bin/env bash
# Every test DBS has, as CI runs it: installs what it needs, builds, and runs
#   0. the format check (scripts/format.sh --check), once the tree has been formatted;
#   1. the Swift suites (engine + the `dbs` binary end to end) with ISA-L;
#   2. the same suites without ISA-L (--disable-default-traits: the portable SIMD
#      backend alone, what a platform without ISA-L runs), in release;
#   3. the engine's codec, container and payload suites under the address sanitizer;
#      3c. coverage-guided fuzzing of the head, stripe-header and file decoders (libFuzzer);
#   4. the C ABI test program against libDBSC, plain and under valgrind;
#   4b. the test vectors read by an independent reader (scripts/test-vectors.sh);
#   5. dbs-bench's quick bit-rot and throughput runs (exit non-zero on any WRONG restore);
#   6. the README's main job (scripts/demo.sh), with its Django part;
#   7. the Django app's suite (scripts/test-django.sh: SQLite and PostgreSQL, Django 6).
# Set DBS_TEST_ONLY=swift to stop after step 1 while iterating.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

# The one format (.swift-format; scripts/format.sh reformats in place). Cheap (a lint
# of every Swift file, ~10 s, no build), so it runs first.
step "0. swift format lint (.swift-format, scripts/format.sh --check)"
bash scripts/format.sh --check

step "1. swift test (default traits: ISA-L on)"
swift build --build-tests
# The two memory-bound tests read the process's peak RSS, so they run in a process of
# their own, one after the other: beside the other suites in parallel, another test's
# allocations counted against them (the 1 GiB sparse file "exceeded" 512 MiB once).
bounded=(--filter 'BoundedMemory' --no-parallel)
swift test --skip-build --skip 'BoundedMemory'
swift test --skip-build "${bounded[@]}"
[ "${DBS_TEST_ONLY:-}" = swift ] && exit 0

step "2. swift test --disable-default-traits (no ISA-L: simd backend only), release"
# Release with testing enabled: the portable SIMD kernel is what runs here, and built
# without optimisation it is too slow for the 1 GiB streaming tests.
noisal=(--disable-default-traits --scratch-path .build-noisal -c release -Xswiftc -enable-testing)
swift build --build-tests "${noisal[@]}"
swift test --skip-build "${noisal[@]}" --skip 'BoundedMemory'
swift test --skip-build "${noisal[@]}" "${bounded[@]}"

step "3. address sanitizer: codec, kernels, container, payload, file trees"
swift build --build-tests --sanitize=address --scratch-path .build-asan
# LeakSanitizer flags allocations inside XCTest and Foundation's Process; leaks are
# checked by valgrind on the C ABI (step 4). Here: invalid accesses only.
# Memory-bound assertions (peak RSS, in this process or a child's) do not hold with the
# sanitizer's shadow memory.
# DBS_FUZZ_REDUCED: FuzzReaderTests' 16-byte-shard shape runs 8 of its 30 mutations here
# (the first 8 of the same sequence; each costs ~10 s under the sanitizer); step 1 ran all.
DBS_FUZZ_REDUCED=1 ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --scratch-path .build-asan \
    --filter 'ReedSolomon|RSKernel|GF256|Container|Damage|Fuzz|Payload|FileTree|Checksum|Compression|Security' \
    --skip 'BoundedMemory|restorePeakDoesNotGrow'

step "3b. address sanitizer: issue 12's suites (descriptor vote, guards, KDF cap, passphrase forms, shifted stripes, test vectors)"
# A separate step so the lead can merge it beside other branches' filters. Same build as
# step 3 (nothing rebuilt). Not measured under the sanitizer on this branch (the shared
# machine was saturated); the four suites take about 30 s in a debug build, so about
# 1-2 minutes here. LayoutScanTests is left out: its time bounds are for an
# uninstrumented build.
ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --scratch-path .build-asan \
    --filter 'DescriptorVoteTests|GuardTests|KDFCostCapTests|PassphraseNormalizationTests|ShiftedStripeTests|TestVectorTests'

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
swift build -c release --product dbs-bench
bench="$(swift build -c release --show-bin-path)/dbs-bench"
"$bench" bitrot --quick
"$bench" throughput --quick

step "6. the main job: scripts/demo.sh"
bash scripts/demo.sh

step "7. the Django app (Integrations/django-dbs): pytest on SQLite and PostgreSQL, Django 6"
bash scripts/test-django.sh

printf '\nall test steps passed in %ss\n' $((SECONDS - started))
