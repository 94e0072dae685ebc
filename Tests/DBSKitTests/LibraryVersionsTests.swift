import Testing

@testable import DBSKit

/// The versions `dbs-bench` prints come from the linked libraries themselves.
@Suite struct LibraryVersionsTests {
    /// "1.5.4" -> [1, 5, 4]; nil unless it is three dot-separated numbers.
    static func numbers(_ text: Substring) -> [Int]? {
        let parts = text.split(separator: ".").map { Int($0) }
        return parts.count == 3 && !parts.contains(nil) ? parts.map { $0! } : nil
    }

    @Test func runTimeVersionsAreTheLinkedLibraries() throws {
        let versions = LibraryVersions.current
        let zstd = try #require(Self.numbers(versions.zstd[...]))
        #expect(zstd[0] == 1 && zstd[1] >= 4, "zstd \(versions.zstd): level-1 chunks need zstd 1.4 or later")
        let xxhash = try #require(Self.numbers(versions.xxhash[...]))
        #expect(xxhash[0] == 0 && xxhash[1] >= 8, "xxhash \(versions.xxhash): XXH3-128 needs 0.8 or later")
        #expect(
            versions.openssl.hasPrefix("OpenSSL 3.") || versions.openssl.hasPrefix("OpenSSL 1.1"),
            "openssl \(versions.openssl)")
        #expect(versions.argon2 == "Argon2 v1.3 (build)")
    }

    @Test func isalVersionFollowsTheBuild() throws {
        #if ISAL
        let isal = try #require(LibraryVersions.current.isal)
        #expect(isal.hasSuffix(" (build)"))
        #expect(Self.numbers(isal.dropLast(" (build)".count)) != nil, "isa-l \(isal)")
        #else
        #expect(LibraryVersions.current.isal == nil)
        #endif
        #expect(LibraryVersions.current.description.contains("zstd \(LibraryVersions.current.zstd)"))
    }
}
