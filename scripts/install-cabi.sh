#!/usr/bin/env bash
# Builds libDBSC (the C API, include/dbs.h) in release mode with the Swift runtime
# linked in, and installs it with its header and a pkg-config file:
#
#   PREFIX/include/dbs.h  PREFIX/lib/libDBSC.so  PREFIX/lib/pkgconfig/dbs.pc
#
# usage: scripts/install-cabi.sh [PREFIX]     (default /usr/local)
#
# -static-stdlib links the Swift runtime and Foundation into the .so, which then needs
# only libc, libm, libgcc_s, libstdc++ and the C libraries DBS uses (SwiftPM's
# --static-swift-stdlib does not apply to dynamic library products). The version
# script exports the dbs_ functions and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(realpath -m "${1:-/usr/local}")"

# A build folder of its own: these flags differ from a plain release build's, and in one
# folder each build would recompile everything the other had compiled (CI builds the
# library once, in its C ABI step, and the Django steps' pip installs find it built).
scratch=(--scratch-path "$PWD/.build-cabi")
swift build -c release "${scratch[@]}" --product DBSC -Xswiftc -static-stdlib \
    -Xlinker "--version-script=$PWD/CShims/CDBSHeader/libDBSC.map"
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 0644 include/dbs.h "$prefix/include/dbs.h"
install -m 0755 "$bin/libDBSC.so" "$prefix/lib/libDBSC.so"

version="$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/DBSPayload/Version.swift)"
cat > "$prefix/lib/pkgconfig/dbs.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: dbs
Description: DBS: encrypted, redundant, self-healing backup files (C API)
Version: ${version:-0}
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lDBSC
PC
echo "installed libDBSC $version into $prefix (pkg-config: PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
