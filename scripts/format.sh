#!/usr/bin/env bash
# The code base's one format (.swift-format: swift-nio's and swift-crypto's settings,
# line length 120, 4 spaces), applied by the formatter in the Swift toolchain.
#
#   scripts/format.sh            reformat every Swift file of the package in place
#   scripts/format.sh --check    lint only: print each finding, exit non-zero on any
#
# What it covers: Package.swift, Sources, Tests, Benchmarks (every .swift file below
# them). CI (scripts/test.sh) runs --check early, once the tree has been formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Tests Benchmarks)
[ -f .swift-format ] || { echo "format.sh: no .swift-format at the repository root" >&2; exit 2; }
case "${1:-}" in
    --check) exec swift format lint --strict --parallel --recursive --configuration .swift-format "${paths[@]}" ;;
    "") exec swift format format --in-place --parallel --recursive --configuration .swift-format "${paths[@]}" ;;
    *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
