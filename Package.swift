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
// imported with `internal import` by exactly one wrapper layer of DBSKit.
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
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CISAL", path: "CShims/CISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "CShims/COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CArgon2", path: "CShims/CArgon2", pkgConfig: "libargon2",
                       providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CZstd", path: "CShims/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CXXHash", path: "CShims/CXXHash", pkgConfig: "libxxhash",
                       providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CBlake2", path: "CShims/CBlake2", pkgConfig: "libb2",
                       providers: [.apt(["libb2-dev"])]),
        // Inline wrappers of libc calls Swift's Glibc module hides (sync_file_range, mallopt).
        .systemLibrary(name: "CLibc", path: "CShims/CLibc"),
        .target(
            name: "DBSKit",
            dependencies: [
                .target(name: "CISAL", condition: .when(traits: ["ISAL"])),
                "COpenSSL", "CArgon2", "CZstd", "CXXHash", "CBlake2", "CLibc",
            ]
        ),
        // include/dbs.h as a Clang module: DBSC's only view of the C structs.
        .systemLibrary(name: "CDBSHeader", path: "CShims/CDBSHeader"),
        .target(name: "DBSC", dependencies: ["DBSKit", "CDBSHeader"]),
        .executableTarget(
            name: "dbs",
            dependencies: [
                "DBSKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "dbs-bench", dependencies: ["DBSKit"], path: "Benchmarks/dbs-bench"),
        // What the test suites share (a seeded generator), so each is written once.
        .target(name: "DBSTestSupport", path: "Tests/DBSTestSupport"),
        .testTarget(name: "DBSKitTests", dependencies: ["DBSKit", "DBSTestSupport"], exclude: ["Fixtures"]),
        // The front ends are imported too: their mappings of the engine's error categories are tested.
        .testTarget(name: "DBSCLITests", dependencies: ["DBSKit", "DBSTestSupport", "dbs", "DBSC"]),
    ]
)
