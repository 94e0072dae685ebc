#!/usr/bin/env bash
# The main job, end to end on a fresh Debian machine: installs what DBS needs, builds
# the release binary, makes a sample tree, backs it up, damages the backup (bit flips
# in both copies and a zeroed region), validates it, restores it and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# DBS_BUILD_FLAGS: other `swift build` flags for the binary (default `-c release`);
# scripts/test.sh and scripts/test-arm64.sh pass those of their release test build, so
# that the package is not compiled a second time for the demo.
read -r -a build_flags <<< "${DBS_BUILD_FLAGS:--c release}"
swift build "${build_flags[@]}" --product dbs
dbs="$(swift build "${build_flags[@]}" --show-bin-path)/dbs"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== sample tree in $work/sample"
mkdir -p "$work/sample/docs/empty" "$work/sample/data"
python3 - "$work/sample" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
words = "backup redundant parity shard stripe sector heal verify copy restore".split()
for i in range(40):
    with open(f"{root}/docs/note-{i:02}.txt", "w") as f:
        f.write(" ".join(rng.choice(words) for _ in range(rng.randint(100, 20000))))
for i in range(4):
    with open(f"{root}/data/blob-{i}.bin", "wb") as f:
        f.write(rng.randbytes(rng.randint(1, 6 << 20)))
with open(f"{root}/docs/ünïcødé name.txt", "w") as f:
    f.write("unicode names survive\n")
os.chmod(f"{root}/data/blob-0.bin", 0o600)
os.symlink("docs/note-00.txt", f"{root}/link-to-note")
PY

export DBS_PASSPHRASE="demo passphrase, not a real one"
kdf=(--kdf-memory 65536 --kdf-time 3)
echo "== dbs backup"
"$dbs" backup "$work/sample.dbs" "$work/sample" --threads 2 "${kdf[@]}"
"$dbs" inspect "$work/sample.dbs"

echo "== damage: bit flips at 1e-5 per bit in both copies, 256 KiB zeroed in copy A"
"$dbs" inspect --json "$work/sample.dbs" > "$work/inspect.json"
python3 scripts/damage.py "$work/sample.dbs" --copies-json "$work/inspect.json" \
    --flip-rate 1e-5 --zero-in-copy A:300000:262144 --seed 42

echo "== dbs validate (no passphrase: structure only)"
env -u DBS_PASSPHRASE "$dbs" validate "$work/sample.dbs"
echo "== dbs restore"
"$dbs" restore "$work/sample.dbs" --to "$work/restored" --threads 2
echo "== compare"
diff -r --no-dereference "$work/sample" "$work/restored/sample"
echo "demo: the damaged backup restored byte for byte"

echo "== the Django app: scripts/demo-django.sh"
bash scripts/demo-django.sh "$dbs"
