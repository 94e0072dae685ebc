// swift-tools-version: 6.1
//
// 6.1 is the true minimum: package traits (the `ISAL` trait and `.when(traits:)` below)
// arrived in SwiftPM 6.1. The C ABI's `@c` needs a 6.3 compiler but is written
// `#if compiler(>=6.3) @c #else @_cdecl("name") #endif` (issue 15), and the sources use
// nothing newer than 6.1 otherwise, so Debian's 6.2.3 builds the package too
// (docs/ARM64.md, "Swift 6.2"). CI runs 6.3.1; a 6.1 toolchain has not been tried.
//
// DBS: one encrypted, redundant, self-healing backup file.
//
// The C libraries the engine stands on are reached through the thin modules in
// CShims/ (one Clang module per system library, found through pkg-config). Each is
// imported with `internal import` by exactly one wrapper layer.
//
// The bottom layers are modules of their own, so that the compiler, not review, keeps
// each to what is below it (what crosses between them inside the package is `package`;
// `public` is what DBSKit re-exports to its users, Sources/DBSKit/Exports.swift):
//
//   DBSKit (Pipeline, Data)
//     +-- DBSIntegrity     the container (over DBSIO, DBSSecurity, DBSCompression,
//     |                    DBSReedSolomon, DBSSystem; CXXHash, CBlake2)
//     +-- DBSPayload       the plaintext format (over DBSIO, DBSSecurity, DBSSystem)
//     +-- DBSIO            the pipeline's buffers, streams and threads (over DBSReedSolomon)
//     +-- DBSSecurity      keys and ciphers (COpenSSL, CArgon2; over DBSSystem)
//     +-- DBSCompression   zstd per chunk (CZstd)
//     +-- DBSReedSolomon   GF(2^8), the codec and its kernels (CISAL under the ISAL trait)
//     |     +-- DBSSystem
//     +-- DBSSystem        the C library and the system calls (CLibc)
//
// Intel ISA-L is an on-by-default trait: `swift build --disable-default-traits`
// builds the engine without it, with the portable Swift SIMD backend as the fast
// Reed-Solomon path (what a platform without ISA-L runs).

import PackageDescription

let package = Package(
    name: "DBS",
    products: [
        .library(name: "DBSKit", targets: ["DBSKit"]),
        // The C API (include/dbs.h) as libDBSC.so. Build it with
        // `swift build -c release --product DBSC -Xswiftc -static-stdlib` for a library
        // that needs no Swift runtime on the target machine (docs/C-API.md).
        .library(name: "DBSC", type: .dynamic, targets: ["DBSC"]),
        .executable(name: "dbs", targets: ["dbs"]),
        .executable(name: "dbs-bench", targets: ["dbs-bench"]),
    ],
    traits: [
        .trait(name: "ISAL", description: "Reed-Solomon kernels from Intel ISA-L (libisal)."),
        .default(enabledTraits: ["ISAL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CISAL", path: "CShims/CISAL", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "CShims/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CArgon2", path: "CShims/CArgon2", pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "CShims/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CXXHash", path: "CShims/CXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(
            name: "CBlake2", path: "CShims/CBlake2", pkgConfig: "libb2",
            providers: [.apt(["libb2-dev"])]),
        // Inline wrappers of libc calls Swift's Glibc module hides (sync_file_range, mallopt).
        .systemLibrary(name: "CLibc", path: "CShims/CLibc"),
        // The system layer: the one import of the C library (re-exported to the modules
        // that import this one), the descriptor owner, the EINTR loop, the errno error,
        // positioned file I/O, the atomic output file, durability and extended-attribute
        // calls (CLibc), signals' cleanup, the kernel's byte-string names (PathBytes).
        // What belongs here: a thin layer over system calls that knows nothing of the
        // backup format; buffers and streams the pipeline shares belong to DBSIO,
        // and AlignedBuffer lives with the Reed-Solomon kernels whose speed it is for.
        .target(name: "DBSSystem", dependencies: ["CLibc"]),
        // GF(2^8), Reed-Solomon and its kernels (scalar, SIMD, ISA-L under the ISAL
        // trait), with AlignedBuffer. scripts/test-arm64.sh compiles GF/ and RS/Kernels/
        // alone (its probe step): keep them free of anything but DBSSystem's platform import.
        .target(
            name: "DBSReedSolomon",
            dependencies: ["DBSSystem", .target(name: "CISAL", condition: .when(traits: ["ISAL"]))]
        ),
        // zstd per chunk: the compressor and its per-thread contexts.
        .target(name: "DBSCompression", dependencies: ["CZstd"]),
        // Keys and ciphers: Argon2id, AES-256-GCM, the chunk cipher and the sealed chunk's
        // codec, the data key's envelope, SHA-256, random bytes, wiped key memory.
        .target(name: "DBSSecurity", dependencies: ["DBSSystem", "COpenSSL", "CArgon2"]),
        // The pipeline's buffers, streams and threads: the background writer, the buffer
        // pool, the byte-stream protocols between layers, the parallel map.
        .target(name: "DBSIO", dependencies: ["DBSSystem", "DBSReedSolomon"]),
        // The plaintext format (docs/PAYLOAD.md): frames, entries, their digests.
        .target(name: "DBSPayload", dependencies: ["DBSSystem", "DBSIO", "DBSSecurity"]),
        // The container (docs/FORMAT.md): descriptor, layout, heads, stripe headers,
        // shard checksums, finding the layout, per-stripe repair and its report, the one
        // writer of records and heads.
        .target(
            name: "DBSIntegrity",
            dependencies: [
                "DBSSystem", "DBSReedSolomon", "DBSCompression", "DBSSecurity", "DBSIO", "CXXHash", "CBlake2",
            ]
        ),
        .target(
            name: "DBSKit",
            dependencies: [
                "DBSSystem", "DBSReedSolomon", "DBSCompression", "DBSSecurity", "DBSIO", "DBSPayload",
                "DBSIntegrity",
            ]
        ),
        // include/dbs.h as a Clang module: DBSC's only view of the C structs.
        .systemLibrary(name: "CDBSHeader", path: "CShims/CDBSHeader"),
        .target(name: "DBSC", dependencies: ["DBSKit", "DBSSystem", "CDBSHeader"]),
        .executableTarget(
            name: "dbs",
            dependencies: [
                "DBSKit", "DBSSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "dbs-bench",
            dependencies: ["DBSKit", "DBSSystem", "DBSCompression", "DBSSecurity", "DBSIntegrity"],
            path: "Benchmarks/dbs-bench"),
        // What the test suites share (a seeded generator), so each is written once.
        .target(name: "DBSTestSupport", dependencies: ["DBSSystem"], path: "Tests/DBSTestSupport"),
        // The engine's suites, the bottom layers' among them (`@testable import` of the
        // layer a suite tests).
        .testTarget(
            name: "DBSKitTests",
            dependencies: [
                "DBSKit", "DBSSystem", "DBSReedSolomon", "DBSCompression", "DBSSecurity", "DBSIO",
                "DBSPayload", "DBSIntegrity", "DBSTestSupport",
            ],
            exclude: ["Fixtures"]
        ),
        // The front ends are imported too: their mappings of the engine's error categories are tested.
        .testTarget(
            name: "DBSCLITests", dependencies: ["DBSKit", "DBSSystem", "DBSPayload", "DBSTestSupport", "dbs", "DBSC"]),
    ]
)
