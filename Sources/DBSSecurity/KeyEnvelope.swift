import DBSSystem

/// The data key sealed under the key-encryption key: what the head stores instead of
/// the data key itself.
package struct WrappedKey: Sendable, Equatable {
    package static let nonceLength = 12
    package static let ciphertextLength = 32
    package static let tagLength = 16
    /// nonce || ciphertext || tag.
    package static let serializedLength = nonceLength + ciphertextLength + tagLength

    package var nonce: [UInt8]
    package var ciphertext: [UInt8]
    package var tag: [UInt8]

    package init(nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.tag = tag
    }

    /// Parses the 60-byte serialized form.
    package init(bytes: some Collection<UInt8>) throws(SecurityError) {
        guard bytes.count == Self.serializedLength else {
            throw .invalidInput("a wrapped key is \(Self.serializedLength) bytes, got \(bytes.count)")
        }
        let b = Array(bytes)
        nonce = Array(b[0..<Self.nonceLength])
        ciphertext = Array(b[Self.nonceLength..<(Self.nonceLength + Self.ciphertextLength)])
        tag = Array(b[(Self.nonceLength + Self.ciphertextLength)...])
    }

    /// nonce || ciphertext || tag, 60 bytes.
    package var bytes: [UInt8] { nonce + ciphertext + tag }
}

/// Wraps the 32-byte data key with AES-256-GCM under the key-encryption key.
///
/// Each key-encryption key comes from a fresh random salt and wraps one data key, and
/// the nonce is random besides. `associatedData` lets the head bind what it stores
/// in the clear (format version, salt, KDF parameters, backup id) to the wrap, so a
/// changed parameter fails the unwrap instead of going unnoticed.
package enum KeyEnvelope {
    /// Seals `dataKey` with a random nonce.
    package static func wrap(
        dataKey: SecureBytes, keyEncryptionKey: SecureBytes, associatedData: [UInt8]
    ) throws(SecurityError) -> WrappedKey {
        try wrap(dataKey: dataKey, keyEncryptionKey: keyEncryptionKey, associatedData: associatedData, nonce: nil)
    }

    /// Seals `dataKey` with `nonce`, or a random one when nil. A fixed nonce is for the
    /// test vectors only (`WriterDraws`): one key-encryption key never wraps twice.
    package static func wrap(
        dataKey: SecureBytes, keyEncryptionKey: SecureBytes, associatedData: [UInt8], nonce fixedNonce: [UInt8]?
    ) throws(SecurityError) -> WrappedKey {
        guard dataKey.count == WrappedKey.ciphertextLength else {
            throw .invalidInput("a data key is \(WrappedKey.ciphertextLength) bytes, got \(dataKey.count)")
        }
        if let fixedNonce, fixedNonce.count != WrappedKey.nonceLength {
            throw .invalidInput("a wrap nonce is \(WrappedKey.nonceLength) bytes, got \(fixedNonce.count)")
        }
        let cipher = try AESGCM(key: keyEncryptionKey)
        let nonce: [UInt8]
        if let fixedNonce { nonce = fixedNonce } else { nonce = try SecureRandom.bytes(WrappedKey.nonceLength) }
        var ciphertext = [UInt8](repeating: 0, count: WrappedKey.ciphertextLength)
        var tag = [UInt8](repeating: 0, count: WrappedKey.tagLength)
        try dataKey.withUnsafeBytes { key throws(SecurityError) in
            try nonce.withTypedUnsafeBytes { nonce throws(SecurityError) in
                try associatedData.withTypedUnsafeBytes { ad throws(SecurityError) in
                    try ciphertext.withTypedUnsafeMutableBytes { out throws(SecurityError) in
                        try tag.withTypedUnsafeMutableBytes { tag throws(SecurityError) in
                            try cipher.seal(nonce: nonce, associatedData: ad, plaintext: key, ciphertext: out, tag: tag)
                        }
                    }
                }
            }
        }
        return WrappedKey(nonce: nonce, ciphertext: ciphertext, tag: tag)
    }

    /// Opens `wrapped`. A tag failure (wrong passphrase, or a changed wrapped key or
    /// associated data) is `.wrongPassphrase`; the decrypted bytes go straight into
    /// secure memory and are wiped if the tag fails.
    package static func unwrap(
        _ wrapped: WrappedKey, keyEncryptionKey: SecureBytes, associatedData: [UInt8]
    ) throws(SecurityError) -> SecureBytes {
        guard wrapped.nonce.count == WrappedKey.nonceLength,
            wrapped.ciphertext.count == WrappedKey.ciphertextLength,
            wrapped.tag.count == WrappedKey.tagLength
        else {
            throw .invalidInput(
                "a wrapped key has a \(WrappedKey.nonceLength)-byte nonce, a "
                    + "\(WrappedKey.ciphertextLength)-byte ciphertext and a \(WrappedKey.tagLength)-byte tag; got "
                    + "\(wrapped.nonce.count), \(wrapped.ciphertext.count) and \(wrapped.tag.count)")
        }
        let cipher = try AESGCM(key: keyEncryptionKey)
        return try SecureBytes(count: WrappedKey.ciphertextLength) {
            (key: UnsafeMutableRawBufferPointer) throws(SecurityError) in
            let verified = try wrapped.nonce.withTypedUnsafeBytes { nonce throws(SecurityError) in
                try associatedData.withTypedUnsafeBytes { ad throws(SecurityError) in
                    try wrapped.ciphertext.withTypedUnsafeBytes { ciphertext throws(SecurityError) in
                        try wrapped.tag.withTypedUnsafeBytes { tag throws(SecurityError) in
                            try cipher.open(
                                nonce: nonce, associatedData: ad, ciphertext: ciphertext, tag: tag,
                                plaintext: key)
                        }
                    }
                }
            }
            guard verified else { throw .wrongPassphrase }
        }
    }
}

/// The passphrase's envelope around the data key, both halves of one protocol
/// (docs/FORMAT.md, "Keys"): creating it (a fresh salt, Argon2id of the passphrase's NFC
/// form, the wrap binding the head's clear fields) and opening it (the NFC form first,
/// then the bytes as given, which older backups were written with:
/// `PassphraseNormalization`). The writer and the reader call these, so what one
/// derives and binds is what the other does.
extension KeyEnvelope {
    /// A fresh Argon2id salt for a new envelope.
    package static func newSalt() throws(SecurityError) -> [UInt8] {
        try SecureRandom.bytes(Argon2id.saltLength)
    }

    /// Wraps `dataKey` under the key Argon2id derives from `passphrase` (its NFC form,
    /// or its bytes as given when not `normalizing`: for the tests that older backups
    /// still open), binding `associatedData`. `nonce` is fixed for the test vectors only.
    package static func seal(
        _ dataKey: SecureBytes, passphrase: SecureBytes, normalizing: Bool = true, salt: [UInt8],
        parameters: KDFParameters, associatedData: [UInt8],
        nonce: [UInt8]? = nil
    ) throws(SecurityError) -> WrappedKey {
        let form = normalizing ? PassphraseNormalization.forWriting(passphrase) : passphrase
        let keyEncryptionKey = try Argon2id.deriveKey(passphrase: form, salt: salt, parameters: parameters)
        return try wrap(
            dataKey: dataKey, keyEncryptionKey: keyEncryptionKey, associatedData: associatedData,
            nonce: nonce)
    }

    /// The data key in `wrapped` (its serialized form), under the passphrase's NFC form
    /// or else (if it differs) its bytes as given. A wrong passphrase is
    /// `.wrongPassphrase`; the error of the last form tried is the one thrown.
    package static func open(
        _ wrapped: [UInt8], passphrase: SecureBytes, salt: [UInt8], parameters: KDFParameters,
        associatedData: [UInt8]
    ) throws(SecurityError) -> SecureBytes {
        let forms = PassphraseNormalization.forReading(passphrase)
        for form in forms.dropLast() {
            if let dataKey = try? open(
                wrapped, exactly: form, salt: salt, parameters: parameters,
                associatedData: associatedData)
            {
                return dataKey
            }
        }
        return try open(
            wrapped, exactly: forms.last!, salt: salt, parameters: parameters,
            associatedData: associatedData)
    }

    private static func open(
        _ wrapped: [UInt8], exactly passphrase: SecureBytes, salt: [UInt8],
        parameters: KDFParameters, associatedData: [UInt8]
    ) throws(SecurityError) -> SecureBytes {
        let keyEncryptionKey = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
        return try unwrap(
            WrappedKey(bytes: wrapped), keyEncryptionKey: keyEncryptionKey, associatedData: associatedData)
    }
}
