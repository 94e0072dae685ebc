internal import COpenSSL

/// AES-256-GCM with a 12-byte nonce and a 16-byte tag, on one OpenSSL cipher context.
///
/// The key schedule is set once, in `init`; each `seal` or `open` then sets only the
/// nonce. The context is mutable C state, so an instance serves one thread at a time:
/// callers that work in parallel take one each (`ChunkCipher` makes one per call).
/// `EVP_CIPHER_CTX_free` in `deinit` wipes the key schedule.
package final class AESGCM {
    package static let keyLength = 32
    package static let nonceLength = 12
    package static let tagLength = 16

    private let context: OpaquePointer

    package init(key: SecureBytes) throws(SecurityError) {
        guard key.count == Self.keyLength else {
            throw .invalidInput("an AES-256-GCM key is \(Self.keyLength) bytes, got \(key.count)")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw .openSSL("EVP_CIPHER_CTX_new") }
        self.context = context
        let status = key.withUnsafeBytes { key in
            EVP_CipherInit_ex(
                context, EVP_aes_256_gcm(), nil,
                key.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, 1)
        }
        guard status == 1 else { throw .openSSL("AES-256-GCM key setup") }
    }

    deinit {
        EVP_CIPHER_CTX_free(context)
    }

    /// Encrypts `plaintext` into `ciphertext` (the same length) and writes the tag.
    package func seal(
        nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, ciphertext: UnsafeMutableRawBufferPointer,
        tag: UnsafeMutableRawBufferPointer
    ) throws(SecurityError) {
        precondition(tag.count == Self.tagLength && ciphertext.count == plaintext.count)
        try start(nonce: nonce, encrypting: true, associatedData: associatedData)
        try update(input: plaintext, output: ciphertext)
        try finish()
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagLength), tag.baseAddress) == 1 else {
            throw .openSSL("AES-256-GCM get tag")
        }
    }

    /// Decrypts `ciphertext` into `plaintext` and checks `tag`. Returns `false` when
    /// the tag does not match; the caller must then discard (and the caller's caller
    /// never see) whatever was written to `plaintext`.
    package func open(
        nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer,
        plaintext: UnsafeMutableRawBufferPointer
    ) throws(SecurityError) -> Bool {
        precondition(tag.count == Self.tagLength && ciphertext.count == plaintext.count)
        try start(nonce: nonce, encrypting: false, associatedData: associatedData)
        try update(input: ciphertext, output: plaintext)
        guard
            EVP_CIPHER_CTX_ctrl(
                context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagLength),
                UnsafeMutableRawPointer(mutating: tag.baseAddress)) == 1
        else {
            throw .openSSL("AES-256-GCM set tag")
        }
        var written: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        let verified = EVP_CipherFinal_ex(context, &scratch, &written) == 1
        ERR_clear_error()  // a tag mismatch may leave an entry; it is reported by the return value
        return verified
    }

    private func start(
        nonce: UnsafeRawBufferPointer, encrypting: Bool,
        associatedData: UnsafeRawBufferPointer
    ) throws(SecurityError) {
        precondition(nonce.count == Self.nonceLength)
        guard
            EVP_CipherInit_ex(
                context, nil, nil, nil,
                nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), encrypting ? 1 : 0) == 1
        else {
            throw .openSSL("AES-256-GCM nonce setup")
        }
        if associatedData.count > 0 {
            try update(input: associatedData, output: nil)
        }
    }

    /// Feeds `input` in pieces that fit OpenSSL's `int` lengths; with `output` nil the
    /// bytes are associated data. GCM is a stream mode: output length equals input.
    private func update(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer?) throws(SecurityError) {
        let piece = 1 << 30
        var offset = 0
        while offset < input.count {
            let length = min(input.count - offset, piece)
            let source = input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            let target = output.map { $0.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self) }
            var written: Int32 = 0
            guard EVP_CipherUpdate(context, target, &written, source, Int32(length)) == 1,
                output == nil || Int(written) == length
            else {
                throw .openSSL("AES-256-GCM update")
            }
            offset += length
        }
    }

    private func finish() throws(SecurityError) {
        var written: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        guard EVP_CipherFinal_ex(context, &scratch, &written) == 1, written == 0 else {
            throw .openSSL("AES-256-GCM final")
        }
    }
}

extension AESGCM {
    /// The linked OpenSSL's version text, e.g. "OpenSSL 3.0.17 1 Jul 2025".
    package static var libraryVersion: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
