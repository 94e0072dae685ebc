/// Seals and opens the payload chunks of one backup with AES-256-GCM under its data
/// key.
///
/// The nonce is the chunk index (4 zero bytes, then the index big-endian): the data
/// key is random per backup and each index is sealed once, so no nonce repeats under
/// a key. The associated data binds the chunk to its backup, its position and whether
/// it is the last one, so a chunk moved, spliced in from another backup, or a stream
/// cut short fails its tag.
///
/// Safe to use from many threads at once: every call works on its own OpenSSL context.
public struct ChunkCipher: Sendable {
    public static let tagLength = 16
    public static let backupIDLength = 16
    static let domain = Array("DBS-chunk-v1".utf8)

    private let dataKey: SecureBytes
    private let backupID: [UInt8]

    public init(dataKey: SecureBytes, backupID: [UInt8]) throws(SecurityError) {
        guard dataKey.count == AESGCM.keyLength else {
            throw .invalidInput("a data key is \(AESGCM.keyLength) bytes, got \(dataKey.count)")
        }
        guard backupID.count == Self.backupIDLength else {
            throw .invalidInput("a backup id is \(Self.backupIDLength) bytes, got \(backupID.count)")
        }
        self.dataKey = dataKey
        self.backupID = backupID
    }

    /// `ciphertext || tag`, 16 bytes longer than `plaintext`.
    public func seal(_ plaintext: [UInt8], chunkIndex: UInt64, isFinal: Bool) throws(SecurityError) -> [UInt8] {
        let cipher = try AESGCM(key: dataKey)
        let nonce = Self.nonce(chunkIndex)
        let associatedData = self.associatedData(chunkIndex, isFinal: isFinal)
        let sealedCount = plaintext.count + Self.tagLength
        var failure: SecurityError?
        let sealed = [UInt8](unsafeUninitializedCapacity: sealedCount) { buffer, initialized in
            // OpenSSL writes every byte (ciphertext, then tag), or the call throws and
            // the array is left empty.
            let out = UnsafeMutableRawBufferPointer(buffer)
            initialized = 0
            do {
                try nonce.withUnsafeBytes { nonce in
                    try associatedData.withUnsafeBytes { ad in
                        try plaintext.withUnsafeBytes { plaintext in
                            try cipher.seal(nonce: nonce, associatedData: ad, plaintext: plaintext,
                                            ciphertext: UnsafeMutableRawBufferPointer(rebasing: out[..<plaintext.count]),
                                            tag: UnsafeMutableRawBufferPointer(rebasing: out[plaintext.count...]))
                        }
                    }
                }
                initialized = sealedCount
            } catch let error as SecurityError {
                failure = error
            } catch {
                failure = .cryptoFailure("unexpected error: \(error)")
            }
        }
        if let failure { throw failure }
        return sealed
    }

    /// The plaintext of `sealed` (`ciphertext || tag`), or `.authenticationFailed` if
    /// the tag does not verify for this backup, index and final flag. Nothing
    /// unverified is returned.
    public func open(_ sealed: [UInt8], chunkIndex: UInt64, isFinal: Bool) throws(SecurityError) -> [UInt8] {
        guard sealed.count >= Self.tagLength else { throw .authenticationFailed(chunkIndex: chunkIndex) }
        let cipher = try AESGCM(key: dataKey)
        let nonce = Self.nonce(chunkIndex)
        let associatedData = self.associatedData(chunkIndex, isFinal: isFinal)
        let plaintextCount = sealed.count - Self.tagLength
        var outcome: Result<Bool, SecurityError> = .success(false)
        let plaintext = [UInt8](unsafeUninitializedCapacity: plaintextCount) { buffer, initialized in
            // Every byte is written by the decryption; the array keeps them only if the
            // tag verified.
            let out = UnsafeMutableRawBufferPointer(buffer)
            initialized = 0
            do {
                let verified = try nonce.withUnsafeBytes { nonce in
                    try associatedData.withUnsafeBytes { ad in
                        try sealed.withUnsafeBytes { sealed in
                            try cipher.open(nonce: nonce, associatedData: ad,
                                            ciphertext: UnsafeRawBufferPointer(rebasing: sealed[..<plaintextCount]),
                                            tag: UnsafeRawBufferPointer(rebasing: sealed[plaintextCount...]),
                                            plaintext: out)
                        }
                    }
                }
                if verified { initialized = plaintextCount }
                outcome = .success(verified)
            } catch let error as SecurityError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(.cryptoFailure("unexpected error: \(error)"))
            }
        }
        switch outcome {
        case .success(true): return plaintext
        case .success(false): throw .authenticationFailed(chunkIndex: chunkIndex)
        case .failure(let error): throw error
        }
    }

    static func nonce(_ chunkIndex: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + bigEndianBytes(chunkIndex)
    }

    /// "DBS-chunk-v1" || backup id || chunk index (big-endian) || final flag.
    func associatedData(_ chunkIndex: UInt64, isFinal: Bool) -> [UInt8] {
        Self.domain + backupID + Self.bigEndianBytes(chunkIndex) + [isFinal ? 1 : 0]
    }

    private static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
