internal import CArgon2

/// The key-encryption key from a passphrase: Argon2id version 1.3 (RFC 9106) through
/// libargon2.
package enum Argon2id {
    /// The salt length the format uses: 16 random bytes per backup.
    package static let saltLength = 16
    /// The derived key length: an AES-256 key.
    package static let keyLength = 32

    /// Derives the 32-byte key-encryption key. `parameters` are validated first, so a
    /// hostile head is refused before any memory is allocated.
    package static func deriveKey(
        passphrase: SecureBytes, salt: [UInt8], parameters: KDFParameters
    ) throws(SecurityError) -> SecureBytes {
        guard salt.count == saltLength else {
            throw .invalidInput("the Argon2id salt is \(saltLength) bytes, got \(salt.count)")
        }
        return try hash(
            password: passphrase, salt: salt, secret: [], associatedData: [],
            parameters: parameters, outputLength: keyLength)
    }

    /// Argon2id with every input of RFC 9106: what `deriveKey` runs (with no secret and
    /// no associated data), open to the RFC's test vector. The output is written
    /// straight into secure memory, and libargon2 wipes its own memory blocks.
    package static func hash(
        password: SecureBytes, salt: [UInt8], secret: [UInt8], associatedData: [UInt8],
        parameters: KDFParameters, outputLength: Int
    ) throws(SecurityError) -> SecureBytes {
        let parameters = try parameters.validated()
        guard (4...1024).contains(outputLength) else {
            throw .invalidInput("Argon2id output length \(outputLength) is outside 4...1024")
        }
        var salt = salt
        var secret = secret
        var associatedData = associatedData
        return try SecureBytes(count: outputLength) { (out: UnsafeMutableRawBufferPointer) throws(SecurityError) in
            let status: Int32 = password.withUnsafeBytes { pwd in
                salt.withUnsafeMutableBufferPointer { salt in
                    secret.withUnsafeMutableBufferPointer { secret in
                        associatedData.withUnsafeMutableBufferPointer { ad in
                            var context = argon2_context(
                                out: out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                outlen: UInt32(out.count),
                                // libargon2 writes to the password only with ARGON2_FLAG_CLEAR_PASSWORD, not set here.
                                pwd: UnsafeMutablePointer(
                                    mutating: pwd.baseAddress?.assumingMemoryBound(to: UInt8.self)),
                                pwdlen: UInt32(pwd.count),
                                salt: salt.baseAddress, saltlen: UInt32(salt.count),
                                secret: secret.baseAddress, secretlen: UInt32(secret.count),
                                ad: ad.baseAddress, adlen: UInt32(ad.count),
                                t_cost: parameters.timeCost,
                                m_cost: parameters.memoryKiB,
                                lanes: parameters.parallelism,
                                threads: parameters.parallelism,
                                version: UInt32(ARGON2_VERSION_13.rawValue),
                                allocate_cbk: nil, free_cbk: nil,
                                flags: 0)  // ARGON2_DEFAULT_FLAGS: wipe internal memory, keep the password
                            return argon2_ctx(&context, Argon2_id)
                        }
                    }
                }
            }
            guard status == ARGON2_OK.rawValue else {
                let message = argon2_error_message(status).map { String(cString: $0) } ?? "error \(status)"
                throw .cryptoFailure("Argon2id: \(message)")
            }
        }
    }
}

extension Argon2id {
    /// libargon2 has no release number call: the algorithm version it computes.
    package static var libraryVersion: String {
        "Argon2 v\(ARGON2_VERSION_NUMBER.rawValue >> 4).\(ARGON2_VERSION_NUMBER.rawValue & 15) (build)"
    }
}
