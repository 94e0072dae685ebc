import DBSCompression
import DBSIntegrity
import DBSSecurity

/// The versions of the C libraries this build of the engine runs on, so that
/// benchmark figures from different machines can be compared. Each version is read by
/// the layer that wraps its library (at run time where the library has a call for it,
/// else from its headers at build time, and said so).
public struct LibraryVersions: Sendable, Equatable, CustomStringConvertible {
    /// Intel ISA-L, from `isa-l.h` at build time (it has no run-time version call);
    /// nil when this binary was built without ISA-L.
    public let isal: String?
    /// OpenSSL, `OpenSSL_version(OPENSSL_VERSION)`.
    public let openssl: String
    /// zstd, `ZSTD_versionString()`.
    public let zstd: String
    /// xxHash, `XXH_versionNumber()`.
    public let xxhash: String
    /// libargon2 has no version call: the Argon2 algorithm version it computes.
    public let argon2: String
    /// libb2 has no version call either.
    public let blake2: String

    public static let current = LibraryVersions(
        isal: ISALVersion.string, openssl: AESGCM.libraryVersion, zstd: ChunkCompressor.libraryVersion,
        xxhash: ChecksumAlgorithm.xxhashVersion, argon2: Argon2id.libraryVersion,
        blake2: ChecksumAlgorithm.blake2Version)

    /// name=version pairs, one line.
    public var description: String {
        [
            ("isa-l", isal ?? "absent"), ("openssl", openssl), ("zstd", zstd), ("xxhash", xxhash),
            ("argon2", argon2), ("libb2", blake2),
        ].map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }
}
