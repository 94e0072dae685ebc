#!/usr/bin/env bash
# Reed-Solomon kernel figures with their references, measured in the same run.
#
#   Benchmarks/rs-reference.sh [rounds=5] [mib=64] [passes=5]
#
# Each round runs the plain C ISA-L program (Benchmarks/reference/isal_encode.c) and
# then `dbs-bench rs`, alternately, so that both see the same machine load. Every
# figure is the median of its passes within a round; the table shows the median over
# rounds, and the ratios are computed per round, then their median taken.
# "per CPU-second" rows divide the bytes by the process's CPU time instead of wall
# time: near 1.0 means the two workers do not slow each other down, so a wall-clock
# speed-up below 2x comes from the machine (other load on the second core).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5} mib=${2:-64} passes=${3:-5}

swift build -c release --product dbs-bench 2>&1 | grep -E "error|warning:" || true
bench=$(swift build -c release --product dbs-bench --show-bin-path)/dbs-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -o "$work/isal_encode" Benchmarks/reference/isal_encode.c -lisal

log="$work/log"
for round in $(seq 1 "$rounds"); do
    # Offset 16: where malloc (and dbs-bench's kernel-level buffers) put stripes;
    # offset 48: where a Swift [UInt8]'s elements start (the codec-level figures).
    for offset in 16 48; do
        "$work/isal_encode" "$mib" "$passes" "$offset" | sed "s/^/round=$round /" >> "$log"
    done
    "$bench" rs --mib "$mib" --passes "$passes" --backends isal,simd --threads 1,2 \
        | sed "s/^/round=$round /" >> "$log"
done
grep -m2 -E "^round=1 (cpu|rs:)" "$log" | sed 's/^round=1 //'
echo "rounds=$rounds mib=$mib passes=$passes; figures in GB/s (10^9 bytes of input shards), median over rounds"

awk -v rounds="$rounds" '
function key(line,   f, op, be, th) {
    # "round=R rs OP backend=B threads=T GB/s=X ..." or "round=R C isal encode threads=1 ... GB/s=X"
    if ($2 == "C") { f = $6; sub("offset=", "", f); return "C encode " f }
    op = $3; be = $4; sub("backend=", "", be); th = $5; sub("threads=", "", th)
    return be " " op " " th
}
function rate(   i, v) { for (i = 1; i <= NF; i++) if ($i ~ /^GB\/s=/) { v = $i; sub("GB/s=", "", v); return v + 0 } }
function median(arr, n,   i, j, t, c) {
    for (i = 1; i <= n; i++) c[i] = arr[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
    return c[int((n + 1) / 2)]
}
function cpurate(   i, x) { for (i = 1; i <= NF; i++) if ($i ~ /^per-cpu-second=/) { x = $i; sub("per-cpu-second=", "", x); return x + 0 } }
/GB\/s=/ { r = $1; sub("round=", "", r); v[key($0), r] = rate(); if ($2 == "rs") v["cpu " key($0), r] = cpurate() }
function fig(k,   r, a) { for (r = 1; r <= rounds; r++) a[r] = v[k, r]; return median(a, rounds) }
function ratio(num, den,   r, a) { for (r = 1; r <= rounds; r++) a[r] = v[num, r] / v[den, r]; return median(a, rounds) }
function row(label, num, den, floor,   x, ok) {
    x = ratio(num, den); ok = x >= floor ? "yes" : "NO"
    printf "| %s | %.3f | %.3f | %.2f | %.2f | %s |\n", label, fig(num), fig(den), x, floor, ok
}
END {
    print "\nper round (1 thread): C@16 C@48 isal simd | codec isal simd"
    for (r = 1; r <= rounds; r++)
        printf "round %d: %.3f %.3f %.3f %.3f | %.3f %.3f\n", r, v["C encode 16", r], v["C encode 48", r], \
            v["isal encode 1", r], v["simd encode 1", r], v["isal codec-encode 1", r], v["simd codec-encode 1", r]
    print ""
    print "| figure | value | reference | ratio | floor | met |"
    print "|---|---|---|---|---|---|"
    row("isal encode, 1 thread / C ec_encode_data at offset 16", "isal encode 1", "C encode 16", 0.90)
    row("simd encode / isal encode, 1 thread", "simd encode 1", "isal encode 1", 0.40)
    row("isal encode, 2 threads / 1 thread", "isal encode 2", "isal encode 1", 1.80)
    row("simd encode, 2 threads / 1 thread", "simd encode 2", "simd encode 1", 1.80)
    row("isal encode, 2 threads / 1 thread, per CPU-second", "cpu isal encode 2", "cpu isal encode 1", 0.90)
    row("simd encode, 2 threads / 1 thread, per CPU-second", "cpu simd encode 2", "cpu simd encode 1", 0.90)
    row("isal decode 16 erasures / isal encode", "isal decode 1", "isal encode 1", 0.70)
    row("simd decode 16 erasures / simd encode", "simd decode 1", "simd encode 1", 0.70)
    row("codec: isal encode, 1 thread / C ec_encode_data at offset 48", "isal codec-encode 1", "C encode 48", 0.90)
    row("codec: simd encode / isal encode, 1 thread", "simd codec-encode 1", "isal codec-encode 1", 0.40)
    row("codec: isal encode, 2 threads / 1 thread", "isal codec-encode 2", "isal codec-encode 1", 1.80)
    row("codec: isal encode, 2 threads / 1 thread, per CPU-second", "cpu isal codec-encode 2", "cpu isal codec-encode 1", 0.90)
    row("codec: isal reconstruct 16 / isal encode", "isal codec-decode 1", "isal codec-encode 1", 0.70)
    row("codec: simd reconstruct 16 / simd encode", "simd codec-decode 1", "simd codec-encode 1", 0.70)
    printf "\nisal syndrome check, 1 thread: %.3f GB/s (floor 1.5); simd: %.3f GB/s; isal 2 threads: %.3f GB/s\n", \
        fig("isal syndrome 1"), fig("simd syndrome 1"), fig("isal syndrome 2")
    printf "decode, 2 threads: isal %.3f, simd %.3f GB/s; simd syndrome 2 threads %.3f GB/s\n", \
        fig("isal decode 2"), fig("simd decode 2"), fig("simd syndrome 2")
    printf "codec consistency check, 1 thread: isal %.3f GB/s (floor 1.5), simd %.3f GB/s\n", \
        fig("isal codec-syndrome 1"), fig("simd codec-syndrome 1")
}' "$log"
