import DBSCompression

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

    /// Bytes of the frame of a chunk whose stored (compressed or raw) form is
    /// `storedCount` bytes.
    static func frameLength(storedCount: Int) -> Int {
        prefixSize + innerHeaderSize + storedCount + ChunkCipher.tagLength
    }

    /// The stored form of `plaintext`: compressed when `compressor` is given and it
    /// pays, else the plaintext itself (no copy).
    static func stored(_ plaintext: [UInt8], index: UInt64,
                       compressor: ChunkCompressor?) throws(BackupError) -> (encoding: ChunkEncoding, bytes: [UInt8]) {
        guard let compressor else { return (.raw, plaintext) }
        do {
            return try compressor.encode(plaintext)
        } catch {
            throw .internalFailure("compressing chunk \(index): \(error)")
        }
    }

    /// Seals chunk `index` as a frame straight into `buffer` at `offset` (exactly
    /// `frameLength(storedCount: stored.bytes.count)` bytes): the inner header and the
    /// stored bytes are laid where the ciphertext goes and encrypted in place, so the
    /// frame costs one copy of the stored bytes and no intermediate array.
    static func seal(_ stored: (encoding: ChunkEncoding, bytes: [UInt8]), plaintextLength: Int, index: UInt64,
                     isFinal: Bool, cipher: ChunkCipher, into buffer: AlignedBuffer, at offset: Int) throws(BackupError) {
        let innerCount = innerHeaderSize + stored.bytes.count
        let sealedCount = innerCount + ChunkCipher.tagLength
        let result = buffer.withUnsafeMutableBytes { whole in
            Result { () throws(BackupError) in
                guard offset >= 0, offset <= whole.count - (prefixSize + sealedCount) else {
                    throw .internalFailure("chunk \(index)'s frame does not fit its batch buffer")
                }
                let frame = UnsafeMutableRawBufferPointer(rebasing: whole[offset..<(offset + prefixSize + sealedCount)])
                frame.storeBytes(of: (UInt32(sealedCount) | (isFinal ? finalFlag : 0)).littleEndian, as: UInt32.self)
                frame.storeBytes(of: stored.encoding.rawValue, toByteOffset: prefixSize, as: UInt8.self)
                frame.storeBytes(of: UInt32(plaintextLength).littleEndian, toByteOffset: prefixSize + 1, as: UInt32.self)
                stored.bytes.withUnsafeBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: frame[(prefixSize + innerHeaderSize)...]).copyMemory(from: bytes)
                }
                // In place: OpenSSL's GCM accepts an output that is exactly its input.
                let inner = UnsafeRawBufferPointer(rebasing: frame[prefixSize..<(prefixSize + innerCount)])
                do {
                    try cipher.seal(inner, chunkIndex: index, isFinal: isFinal,
                                    into: UnsafeMutableRawBufferPointer(rebasing: frame[prefixSize...]))
                } catch {
                    throw .internalFailure("sealing chunk \(index): \(error)")
                }
            }
        }
        try result.get()
    }

    /// Why a frame prefix claiming `length` sealed bytes cannot be real (nil when it
    /// can): shorter than a tag and an inner header, or longer than the largest chunk.
    /// The restore and the keyless stream walk refuse the same frames with it.
    static func impossibleLength(_ length: Int, chunk index: UInt64, chunkSize: Int) -> String? {
        guard length < ChunkCipher.tagLength + innerHeaderSize || length > maximumSealedLength(chunkSize: chunkSize)
        else { return nil }
        return "chunk \(index) has an impossible sealed length \(length)"
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
            // A raw chunk's plaintext is the rest of `inner`: moved down in place (no
            // second 1 MiB array to allocate and fault in).
            inner.removeFirst(innerHeaderSize)
            return try decompressor.decode(inner, encoding: encoding, plaintextLength: length)
        } catch {
            throw .corruptedStream("chunk \(index) does not decompress: \(error)")
        }
    }
}
