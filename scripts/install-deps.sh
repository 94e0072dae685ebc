#!/usr/bin/env bash
# Installs the Debian packages DBS builds and tests with, idempotently: apt-get runs
# only when one of them is missing. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
packages=(pkg-config libisal-dev libssl-dev libargon2-dev libzstd-dev libxxhash-dev libb2-dev
          python3 zstd valgrind)
# The file tree tests set ACLs and extended attributes (setfacl, setfattr): about 1 s
# of apt when missing, 0 when installed.
packages+=(acl attr)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "install-deps: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "install-deps: Swift 6.1 or newer must be on PATH (https://swift.org/install)" >&2; exit 1; }
