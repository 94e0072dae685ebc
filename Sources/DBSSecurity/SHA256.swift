internal import COpenSSL

/// Streaming SHA-256 through OpenSSL's EVP interface: per-file and whole-payload
/// hashes of the plaintext.
///
/// A value type: a copy continues independently (copy-on-write duplicates the OpenSSL
/// context with `EVP_MD_CTX_copy_ex` when a shared one is about to change).
package struct SHA256Hasher {
    package static let digestLength = 32

    private var state: DigestContext

    package init() {
        state = DigestContext()
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        state.update(bytes)
    }

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    package mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything passed to `update`.
    package consuming func finalize() -> [UInt8] {
        if !isKnownUniquelyReferenced(&state) { state = state.copy() }
        return state.finalize()
    }

    /// The digest of `bytes` in one call.
    package static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Owns one `EVP_MD_CTX` set up for SHA-256, freed in `deinit`.
///
/// Failures here are allocation failures or a libcrypto without SHA-256, neither of
/// which input can cause, so they stop the process rather than thread an error
/// through every hash.
private final class DigestContext {
    let context: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("\(SecurityError.openSSL("SHA-256 init"))")
        }
    }

    private init(copying other: DigestContext) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
        guard EVP_MD_CTX_copy_ex(context, other.context) == 1 else {
            fatalError("\(SecurityError.openSSL("SHA-256 copy"))")
        }
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    func copy() -> DigestContext { DigestContext(copying: self) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("\(SecurityError.openSSL("SHA-256 update"))")
        }
    }

    func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256Hasher.digestLength)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, Int(length) == digest.count else {
            fatalError("\(SecurityError.openSSL("SHA-256 final"))")
        }
        return digest
    }
}
