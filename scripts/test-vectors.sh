#!/usr/bin/env bash
# The test vectors of docs/TEST-VECTORS.md read by a second, independent reader
# (Tests/Reference/dbs_vector_reader.py, written from docs/FORMAT.md and
# docs/PAYLOAD.md alone, with primitives from PyPI rather than DBS's libraries): its
# listing of each vector must be the published one (docs/vectors/*.listing). DBS's own
# reader and writer are checked against the same files by TestVectorTests (step 1).
#
# Makes .build/vectors-venv with argon2-cffi, cryptography, xxhash and zstandard once
# (about a minute of download on a cold cache; nothing when the venv is there); the
# reading itself takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/vectors-venv
modules="import argon2.low_level, cryptography.hazmat.primitives.ciphers.aead, xxhash, zstandard"
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$modules" 2>/dev/null; }; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q argon2-cffi cryptography xxhash zstandard
fi
check() { # check NAME PASSPHRASE-HEX
    local listing
    listing="$("$venv/bin/python" Tests/Reference/dbs_vector_reader.py "docs/vectors/$1.dbs.hex" "$2")"
    if [ "$listing" != "$(cat "docs/vectors/$1.listing")" ]; then
        echo "FAIL: the independent reader's listing of $1 differs from docs/vectors/$1.listing:" >&2
        diff <(echo "$listing") "docs/vectors/$1.listing" >&2 || true
        exit 1
    fi
    echo "$1: read by the independent reader, listing as published"
}
# The passphrases of docs/TEST-VECTORS.md as typed: "correct horse battery staple",
# and "café crème" decomposed (NFD), which the reader must normalise to NFC.
check two-copy 636f727265637420686f727365206261747465727920737461706c65
check single-copy 63616665cc8120637265cc806d65
