import DBSSystem

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
    package static let tagLength = 16
    package static let backupIDLength = 16
    package static let domain = Array("DBS-chunk-v1".utf8)

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
        try Self.array(count: plaintext.count + Self.tagLength) { sealed throws(SecurityError) in
            try plaintext.withTypedUnsafeBytes { plaintext throws(SecurityError) in
                try seal(plaintext, chunkIndex: chunkIndex, isFinal: isFinal, into: sealed)
            }
        }
    }

    /// Seals `plaintext` into `sealed`, which must be exactly `tagLength` bytes longer:
    /// for callers that place chunks straight into larger buffers.
    public func seal(
        _ plaintext: UnsafeRawBufferPointer, chunkIndex: UInt64, isFinal: Bool,
        into sealed: UnsafeMutableRawBufferPointer
    ) throws(SecurityError) {
        guard sealed.count == plaintext.count + Self.tagLength else {
            throw .invalidInput(
                "a sealed chunk of \(plaintext.count) bytes needs \(plaintext.count + Self.tagLength) "
                    + "bytes of output, got \(sealed.count)")
        }
        let cipher = try AESGCM(key: dataKey)
        let nonce = Self.nonce(chunkIndex)
        let associatedData = self.associatedData(chunkIndex, isFinal: isFinal)
        try nonce.withTypedUnsafeBytes { nonce throws(SecurityError) in
            try associatedData.withTypedUnsafeBytes { ad throws(SecurityError) in
                try cipher.seal(
                    nonce: nonce, associatedData: ad, plaintext: plaintext,
                    ciphertext: UnsafeMutableRawBufferPointer(rebasing: sealed[..<plaintext.count]),
                    tag: UnsafeMutableRawBufferPointer(rebasing: sealed[plaintext.count...]))
            }
        }
    }

    /// The plaintext of `sealed` (`ciphertext || tag`), or `.authenticationFailed` if
    /// the tag does not verify for this backup, index and final flag. Nothing
    /// unverified is returned.
    public func open(_ sealed: [UInt8], chunkIndex: UInt64, isFinal: Bool) throws(SecurityError) -> [UInt8] {
        guard sealed.count >= Self.tagLength else { throw .authenticationFailed(chunkIndex: chunkIndex) }
        // The array keeps the decrypted bytes only if the tag verified.
        return try Self.array(count: sealed.count - Self.tagLength) { plaintext throws(SecurityError) in
            try sealed.withTypedUnsafeBytes { sealed throws(SecurityError) in
                try open(sealed, chunkIndex: chunkIndex, isFinal: isFinal, into: plaintext)
            }
        }
    }

    /// An array of `count` bytes that `fill` writes in full, built without zero-filling
    /// first; when `fill` throws, no array (and none of its bytes) comes out.
    private static func array(
        count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(SecurityError) -> Void
    ) throws(SecurityError) -> [UInt8] {
        var failure: SecurityError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            do throws(SecurityError) {
                try fill(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Opens `sealed` into `plaintext`, which must be exactly `tagLength` bytes
    /// shorter. On `.authenticationFailed` `plaintext` is zeroed: unverified bytes
    /// are not left where a caller might use them.
    public func open(
        _ sealed: UnsafeRawBufferPointer, chunkIndex: UInt64, isFinal: Bool,
        into plaintext: UnsafeMutableRawBufferPointer
    ) throws(SecurityError) {
        guard sealed.count >= Self.tagLength else { throw .authenticationFailed(chunkIndex: chunkIndex) }
        let count = sealed.count - Self.tagLength
        guard plaintext.count == count else {
            throw .invalidInput(
                "a sealed chunk of \(sealed.count) bytes opens into \(count) bytes, got \(plaintext.count)")
        }
        let cipher = try AESGCM(key: dataKey)
        let nonce = Self.nonce(chunkIndex)
        let associatedData = self.associatedData(chunkIndex, isFinal: isFinal)
        let verified = try nonce.withTypedUnsafeBytes { nonce throws(SecurityError) in
            try associatedData.withTypedUnsafeBytes { ad throws(SecurityError) in
                try cipher.open(
                    nonce: nonce, associatedData: ad,
                    ciphertext: UnsafeRawBufferPointer(rebasing: sealed[..<count]),
                    tag: UnsafeRawBufferPointer(rebasing: sealed[count...]),
                    plaintext: plaintext)
            }
        }
        guard verified else {
            if count > 0 { plaintext.initializeMemory(as: UInt8.self, repeating: 0) }
            throw .authenticationFailed(chunkIndex: chunkIndex)
        }
    }

    package static func nonce(_ chunkIndex: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + bigEndianBytes(chunkIndex)
    }

    /// "DBS-chunk-v1" || backup id || chunk index (big-endian) || final flag.
    package func associatedData(_ chunkIndex: UInt64, isFinal: Bool) -> [UInt8] {
        Self.domain + backupID + Self.bigEndianBytes(chunkIndex) + [isFinal ? 1 : 0]
    }

    private static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
