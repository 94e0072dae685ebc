#!/usr/bin/env bash
# Every test DBS has: installs what it needs, builds, runs the Swift test suite with
# ISA-L and again without it (the configuration of a platform without ISA-L).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== swift test (default traits: ISA-L on)"
swift build --build-tests
swift test --skip-build

echo "== swift test --disable-default-traits (no ISA-L: simd backend only)"
swift build --build-tests --disable-default-traits --scratch-path .build-noisal
swift test --skip-build --disable-default-traits --scratch-path .build-noisal
