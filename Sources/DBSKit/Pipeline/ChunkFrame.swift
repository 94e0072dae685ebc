/// One payload chunk in the ciphertext stream (docs/FORMAT.md, "Ciphertext stream"):
///
/// ```
/// frame  = prefix (u32 LE: bit 31 final flag, bits 0-30 sealed length) || sealed
/// sealed = AES-256-GCM(encoding u8 || plaintext length u32 LE || stored bytes) || tag
/// ```
///
/// Only the sealed length and the final flag are in the clear; the flag is also bound
/// into the chunk's GCM associated data, so flipping it fails the tag. The encoding and
/// the plaintext length are inside the sealed data.
enum ChunkFrame {
    static let prefixSize = 4
    static let innerHeaderSize = 5
    static let finalFlag: UInt32 = 1 << 31

    /// The largest sealed length a chunk of `chunkSize` plaintext bytes can have: a
    /// chunk that does not shrink is stored raw, so never more than the plaintext,
    /// plus the inner header and the tag.
    static func maximumSealedLength(chunkSize: Int) -> Int {
        chunkSize + innerHeaderSize + ChunkCipher.tagLength
    }

    /// The frame for `plaintext`: compressed (when `compressor` is given and it pays),
    /// sealed as chunk `index`, with its prefix.
    static func seal(_ plaintext: [UInt8], index: UInt64, isFinal: Bool, compressor: ChunkCompressor?,
                     cipher: ChunkCipher) throws(BackupError) -> [UInt8] {
        var encoding = ChunkEncoding.raw
        var stored = plaintext
        if let compressor {
            do {
                (encoding, stored) = try compressor.encode(plaintext)
            } catch {
                throw .internalFailure("compressing chunk \(index): \(error)")
            }
        }
        var inner = [UInt8]()
        inner.reserveCapacity(innerHeaderSize + stored.count)
        inner.append(encoding.rawValue)
        withUnsafeBytes(of: UInt32(plaintext.count).littleEndian) { inner.append(contentsOf: $0) }
        inner.append(contentsOf: stored)
        // Sealed straight into the frame, after its prefix: no copy of the ciphertext.
        let sealedCount = inner.count + ChunkCipher.tagLength
        var frame = [UInt8](repeating: 0, count: prefixSize + sealedCount)
        let prefix = UInt32(sealedCount) | (isFinal ? finalFlag : 0)
        let result = frame.withUnsafeMutableBytes { out in
            out.storeBytes(of: prefix.littleEndian, as: UInt32.self)
            return inner.withUnsafeBytes { plaintext in
                Result { () throws(SecurityError) in
                    try cipher.seal(plaintext, chunkIndex: index, isFinal: isFinal,
                                    into: UnsafeMutableRawBufferPointer(rebasing: out[prefixSize...]))
                }
            }
        }
        do {
            try result.get()
        } catch {
            throw .internalFailure("sealing chunk \(index): \(error)")
        }
        return frame
    }

    /// Parses a prefix: (sealed length, final flag).
    static func parsePrefix(_ bytes: some Collection<UInt8>) -> (length: Int, isFinal: Bool) {
        var value: UInt32 = 0
        for (i, byte) in bytes.prefix(prefixSize).enumerated() { value |= UInt32(byte) << (8 * i) }
        return (Int(value & ~finalFlag), value & finalFlag != 0)
    }

    /// The plaintext of a sealed chunk (a slice of the verified ciphertext stream,
    /// opened where it lies); nothing is returned unless the GCM tag verifies.
    static func open(_ sealed: ArraySlice<UInt8>, index: UInt64, isFinal: Bool, cipher: ChunkCipher,
                     decompressor: ChunkCompressor, chunkSize: Int) throws(BackupError) -> [UInt8] {
        guard sealed.count >= ChunkCipher.tagLength else { throw .corruptedChunk(index: index) }
        var inner = [UInt8](repeating: 0, count: sealed.count - ChunkCipher.tagLength)
        let opened = inner.withUnsafeMutableBytes { out in
            sealed.withUnsafeBytes { input in
                Result { () throws(SecurityError) in
                    try cipher.open(input, chunkIndex: index, isFinal: isFinal, into: out)
                }
            }
        }
        do {
            try opened.get()
        } catch {
            if case .authenticationFailed = error { throw .corruptedChunk(index: index) }
            throw .internalFailure("opening chunk \(index): \(error)")
        }
        guard inner.count >= innerHeaderSize, let encoding = ChunkEncoding(rawValue: inner[0]) else {
            throw .corruptedStream("chunk \(index) has an invalid inner header")
        }
        var length = 0
        for i in 0..<4 { length |= Int(inner[1 + i]) << (8 * i) }
        guard length <= chunkSize else {
            throw .corruptedStream("chunk \(index) declares \(length) plaintext bytes, more than the chunk size \(chunkSize)")
        }
        do {
            return try decompressor.decode(Array(inner[innerHeaderSize...]), encoding: encoding, plaintextLength: length)
        } catch {
            throw .corruptedStream("chunk \(index) does not decompress: \(error)")
        }
    }
}
