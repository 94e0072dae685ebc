#!/usr/bin/env bash
# The test vectors of docs/TEST-VECTORS.md read by a second, independent reader
# (Tests/Reference/dbs_vector_reader.py, written from docs/FORMAT.md and
# docs/PAYLOAD.md alone, with primitives from PyPI rather than DBS's libraries): its
# listing of each vector must be the published one (docs/vectors/*.listing). DBS's own
# reader and writer are checked against the same files by TestVectorTests (step 1).
#
# Makes .build/vectors-venv with argon2-cffi, cryptography, xxhash and zstandard once
# (about a minute of download on a cold cache; nothing when the venv is there); the
# checks themselves take about 2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/vectors-venv
modules="import argon2.low_level, cryptography.hazmat.primitives.ciphers.aead, xxhash, zstandard"
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$modules" 2>/dev/null; }; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q argon2-cffi cryptography xxhash zstandard
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
check() { # check NAME PASSPHRASE-HEX [FILE-OFFSET...]: the listing, with those bytes flipped
    local name=$1 passphrase=$2 listing
    shift 2
    "$venv/bin/python" - "docs/vectors/$name.dbs.hex" "$scratch/$name.hex" "$@" <<'PY'
import sys
data = bytearray(bytes.fromhex("".join(open(sys.argv[1]).read().split())))
for offset in sys.argv[3:]:
    data[int(offset)] ^= 0x01
open(sys.argv[2], "w").write(data.hex())
PY
    listing="$("$venv/bin/python" Tests/Reference/dbs_vector_reader.py "$scratch/$name.hex" "$passphrase")"
    if [ "$listing" != "$(cat "docs/vectors/$name.listing")" ]; then
        echo "FAIL: the independent reader's listing of $name (bytes changed: ${*:-none}) differs:" >&2
        diff <(echo "$listing") "docs/vectors/$name.listing" >&2 || true
        exit 1
    fi
    echo "$name: read by the independent reader, listing as published (bytes changed: ${*:-none})"
}
# The passphrases of docs/TEST-VECTORS.md as typed: "correct horse battery staple",
# and "café crème" decomposed (NFD), which the reader must normalise to NFC.
two=636f727265637420686f727365206261747465727920737461706c65
single=63616665cc8120637265cc806d65
check two-copy "$two"
check single-copy "$single"
# Healed: copy A's first data shard (offset 16384) from copy B; the same shard bad in
# both copies (copy B's at 33824 + 8192) rebuilt by the parity shard; in single-copy a
# data shard and then the parity shard rebuilt.
check two-copy "$two" 16389
check two-copy "$two" 16389 42021
check single-copy "$single" 16389
check single-copy "$single" 16898
# The erasure decoding on a code with more parity: three shards of head #0's protected
# block (m = 58) rebuilt from the other 125, byte for byte.
"$venv/bin/python" - docs/vectors/two-copy.dbs.hex <<'PY'
import sys
sys.path.insert(0, "Tests/Reference")
import dbs_vector_reader as reader
block = bytes.fromhex("".join(open(sys.argv[1]).read().split()))[:8192]
shards = [block[64 * i:64 * i + 64] for i in range(128)]
damaged = list(shards)
for e in (0, 69, 127):
    damaged[e] = bytes(64)
reader.rebuild(damaged, [0, 69, 127], 58)
assert damaged == shards, "the erasure decoding does not rebuild head #0's block"
print("head #0 block: shards 0, 69 and 127 rebuilt by the independent erasure decoding")
PY
