#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders a hostile backup file reaches first (issue 12),
# with libFuzzer and the address sanitizer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET[:SECONDS]...]     default: 30 s each for head, stripe, file
#
# Targets (Tests/Fuzz/FuzzTargets.swift): head, stripe, file (layout scan, locator,
# descriptor election and the passphrase-less validator over a whole small file), entry.
# Builds one instrumented executable from DBSKit's sources plus Tests/Fuzz with swiftc
# (-sanitize=fuzzer,address; the fuzz entry points stay out of the library), over the
# modules below DBSKit built the same way first (`lower` below: static libraries in
# .build-fuzz/modules), rebuilt only when a source changed; writes the seed corpus with
# the engine itself; runs each target for SECONDS with the corpus kept in
# .build-fuzz/corpus/<target>; prints executions, coverage (cov: edges, ft: features)
# and corpus size per target. Exits non-zero on any crash, sanitizer report or broken
# invariant; the input is saved under .build-fuzz/crashes/ (replay:
# DBS_FUZZ_TARGET=<target> .build-fuzz/dbs-fuzz <file>).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(head stripe file)

out=.build-fuzz
binary=$out/dbs-fuzz
mkdir -p "$out/crashes"
# The modules below DBSKit, in dependency order, then DBSKit and the fuzz targets as one.
lower=(DBSSystem DBSReedSolomon DBSCompression DBSSecurity DBSIO DBSPayload DBSIntegrity)
mapfile -t sources < <(find Sources/DBSKit Tests/Fuzz -name '*.swift' | sort)
mapfile -t all_sources < <(find "${lower[@]/#/Sources/}" Sources/DBSKit Tests/Fuzz -name '*.swift' | sort)

# The C shims as Clang modules (their module maps link the libraries); ISA-L as in the
# default build.
shims=()
for shim in CISAL COpenSSL CArgon2 CZstd CXXHash CBlake2 CLibc; do shims+=(-I "CShims/$shim"); done
# The libraries themselves, for the final link: the lower modules' static archives do
# not carry their module maps' autolink entries into it.
links=()
for library in libisal libcrypto libargon2 libzstd libxxhash libb2; do
    for flag in $(pkg-config --cflags-only-I "$library"); do shims+=(-Xcc "$flag"); done
    for flag in $(pkg-config --libs "$library"); do links+=("$flag"); done
done

stale=1
if [ -x "$binary" ] && [ -z "$(find "${all_sources[@]}" scripts/fuzz.sh -newer "$binary" | head -1)" ]; then stale=0; fi
if [ $stale = 1 ]; then
    build_started=$SECONDS
    modules=$out/modules
    rm -rf "$modules" && mkdir -p "$modules"
    # -O: the decoders run their Reed-Solomon corrections, which unoptimised Swift makes
    # ~10x slower, and executions per second are what a bounded run buys.
    flags=(-swift-version 6 -parse-as-library -package-name DBS -D ISAL -O -g -sanitize=fuzzer,address
           "${shims[@]}" -I "$modules")
    : > "$out/build.log"
    libraries=()
    for module in "${lower[@]}"; do
        mapfile -t module_sources < <(find "Sources/$module" -name '*.swift' | sort)
        swiftc "${flags[@]}" -module-name "$module" -emit-module -emit-module-path "$modules/$module.swiftmodule" \
            -emit-library -static -o "$modules/lib$module.a" "${module_sources[@]}" 2>> "$out/build.log" \
            || { grep -v "Cannot export local symbol" "$out/build.log"; exit 1; }
        libraries=(-l"$module" "${libraries[@]}")  # a library before those it uses
    done
    swiftc "${flags[@]}" -module-name DBSFuzz "${sources[@]}" -L "$modules" "${libraries[@]}" "${links[@]}" \
        -o "$binary.tmp" 2>> "$out/build.log" \
        || { grep -v "Cannot export local symbol" "$out/build.log"; exit 1; }
    mv "$binary.tmp" "$binary"
    echo "fuzz: built $binary in $((SECONDS - build_started)) s"
fi

seeds=$out/seeds
rm -rf "$seeds"
DBS_FUZZ_SEEDS="$seeds" ASAN_OPTIONS=detect_leaks=0 "$binary"

status=0
for spec in "${targets[@]}"; do
    target=${spec%%:*}
    budget=$seconds
    [ "$spec" = "$target" ] || budget=${spec#*:}
    corpus=$out/corpus/$target
    mkdir -p "$corpus"
    log=$out/$target.log
    # rss_limit: an input that makes a decoder allocate without bound is a bug too.
    if ! DBS_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$binary" -max_total_time="$budget" \
        -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$out/crashes/$target-" \
        "$corpus" "$seeds/$target" > "$log" 2>&1; then
        status=1
        tail -40 "$log"
        echo "fuzz $target: FAILED (input saved under $out/crashes/)"
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    final=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)
    echo "fuzz $target: $runs executions in $budget s, $final (corpus entries/bytes)"
done
exit $status
