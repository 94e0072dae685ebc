/// The security layer's wire format: one payload chunk in the ciphertext stream
/// (docs/FORMAT.md, "Ciphertext stream"):
///
/// ```
/// sealed chunk = prefix (u32 LE: bit 31 final flag, bits 0-30 sealed length) || sealed
/// sealed       = AES-256-GCM(encoding u8 || plaintext length u32 LE || stored bytes) || tag
/// ```
///
/// Only the sealed length and the final flag are in the clear; the flag is also bound
/// into the chunk's GCM associated data, so flipping it fails the tag. The encoding and
/// the plaintext length are inside the sealed data. The encoding is a byte here: what
/// it means (raw, zstd) is the compression layer's business, not this codec's.
///
/// The one codec of the stream: the writer seals with it, the restore opens with it,
/// and the restore and the keyless walk (`SealedChunkWalker`) cut the stream with the one
/// routine `cut`.
package enum SealedChunk {
    package static let prefixSize = 4
    package static let innerHeaderSize = 5
    package static let finalFlag: UInt32 = 1 << 31

    /// The largest sealed length a chunk of `chunkSize` plaintext bytes can have: a
    /// chunk that does not shrink is stored raw, so never more than the plaintext,
    /// plus the inner header and the tag.
    package static func maximumSealedLength(chunkSize: Int) -> Int {
        chunkSize + innerHeaderSize + ChunkCipher.tagLength
    }

    /// Bytes of the sealed chunk of a chunk whose stored (compressed or raw) form is
    /// `storedCount` bytes.
    package static func length(storedCount: Int) -> Int {
        prefixSize + innerHeaderSize + storedCount + ChunkCipher.tagLength
    }

    /// The prefix of a sealed chunk of `sealedLength` sealed bytes, as the value stored
    /// little-endian.
    package static func prefixValue(sealedLength: Int, isFinal: Bool) -> UInt32 {
        UInt32(sealedLength) | (isFinal ? finalFlag : 0)
    }

    /// The prefix of a sealed chunk of `sealedLength` sealed bytes, as its four bytes.
    package static func prefix(sealedLength: Int, isFinal: Bool) -> [UInt8] {
        let value = prefixValue(sealedLength: sealedLength, isFinal: isFinal)
        return (0..<prefixSize).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// Parses a prefix: (sealed length, final flag).
    package static func parsePrefix(_ bytes: some Collection<UInt8>) -> (length: Int, isFinal: Bool) {
        var value: UInt32 = 0
        for (i, byte) in bytes.prefix(prefixSize).enumerated() { value |= UInt32(byte) << (8 * i) }
        return (Int(value & ~finalFlag), value & finalFlag != 0)
    }

    /// Whether a prefix claiming `length` sealed bytes can be real: at least a tag and
    /// an inner header, at most the largest chunk.
    package static func isPossible(sealedLength length: Int, chunkSize: Int) -> Bool {
        length >= ChunkCipher.tagLength + innerHeaderSize && length <= maximumSealedLength(chunkSize: chunkSize)
    }

    /// Where one sealed chunk lies in the bytes it was cut from.
    package struct Location: Sendable, Equatable {
        /// The chunk's index in the stream.
        package var index: UInt64
        /// The sealed bytes, in the indices of the bytes cut (they may reach beyond them).
        package var sealed: Range<Int>
        package var isFinal: Bool
        /// Just after the sealed chunk.
        package var end: Int { sealed.upperBound }

        package init(index: UInt64, sealed: Range<Int>, isFinal: Bool) {
            self.index = index
            self.sealed = sealed
            self.isFinal = isFinal
        }
    }

    /// Cuts the sealed chunk of chunk `index` whose prefix starts at `start` in `bytes`: nil
    /// when fewer than `prefixSize` bytes are left there; else where its sealed bytes
    /// lie, which may be beyond `bytes` (the caller needs more of the stream to open it,
    /// or only skips it). A prefix no chunk of `chunkSize` can have throws
    /// `.impossibleLength`: the restore and the keyless walk refuse the same sealed chunks.
    package static func cut<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, at start: Int, index: UInt64,
        chunkSize: Int
    ) throws(SealedChunkError) -> Location?
    where Bytes.Index == Int {
        guard bytes.endIndex - start >= prefixSize else { return nil }
        let (length, isFinal) = parsePrefix(bytes[start..<(start + prefixSize)])
        guard isPossible(sealedLength: length, chunkSize: chunkSize) else {
            throw .impossibleLength(chunk: index, length: length)
        }
        return Location(index: index, sealed: (start + prefixSize)..<(start + prefixSize + length), isFinal: isFinal)
    }

    /// Seals chunk `index` as its sealed chunk straight into `buffer` at `offset` (exactly
    /// `length(storedCount: stored.count)` bytes): the inner header and the stored
    /// bytes are laid where the ciphertext goes and encrypted in place, so the sealed chunk
    /// costs one copy of the stored bytes and no intermediate array.
    package static func seal(
        encoding: UInt8, stored: [UInt8], plaintextLength: Int, index: UInt64, isFinal: Bool,
        cipher: ChunkCipher, into buffer: UnsafeMutableRawBufferPointer,
        at offset: Int
    ) throws(SealedChunkError) {
        let innerCount = innerHeaderSize + stored.count
        let sealedCount = innerCount + ChunkCipher.tagLength
        guard offset >= 0, offset <= buffer.count - (prefixSize + sealedCount) else { throw .doesNotFit(chunk: index) }
        let sealedChunk = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + prefixSize + sealedCount)])
        sealedChunk.storeBytes(
            of: prefixValue(sealedLength: sealedCount, isFinal: isFinal).littleEndian, as: UInt32.self)
        sealedChunk.storeBytes(of: encoding, toByteOffset: prefixSize, as: UInt8.self)
        sealedChunk.storeBytes(of: UInt32(plaintextLength).littleEndian, toByteOffset: prefixSize + 1, as: UInt32.self)
        stored.withUnsafeBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: sealedChunk[(prefixSize + innerHeaderSize)...]).copyMemory(
                from: bytes)
        }
        // In place: OpenSSL's GCM accepts an output that is exactly its input.
        let inner = UnsafeRawBufferPointer(rebasing: sealedChunk[prefixSize..<(prefixSize + innerCount)])
        do {
            try cipher.seal(
                inner, chunkIndex: index, isFinal: isFinal,
                into: UnsafeMutableRawBufferPointer(rebasing: sealedChunk[prefixSize...]))
        } catch {
            throw .sealing(chunk: index, error)
        }
    }

    /// What a sealed chunk holds, once its tag verified.
    package struct Opened {
        /// The inner header's encoding byte.
        package var encoding: UInt8
        /// The inner header's plaintext length (not yet checked against anything).
        package var plaintextLength: Int
        /// The stored bytes.
        package var stored: [UInt8]
    }

    /// Opens a sealed chunk (a slice of the verified ciphertext stream, opened where it
    /// lies); nothing is returned unless the GCM tag verifies.
    package static func open(
        _ sealed: ArraySlice<UInt8>, index: UInt64, isFinal: Bool,
        cipher: ChunkCipher
    ) throws(SealedChunkError) -> Opened {
        guard sealed.count >= ChunkCipher.tagLength else { throw .authenticationFailed(chunk: index) }
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
            if case .authenticationFailed = error { throw .authenticationFailed(chunk: index) }
            throw .opening(chunk: index, error)
        }
        guard inner.count >= innerHeaderSize else { throw .invalidInnerHeader(chunk: index) }
        let encoding = inner[0]
        var length = 0
        for i in 0..<4 { length |= Int(inner[1 + i]) << (8 * i) }
        // The stored bytes are the rest of `inner`, moved down in place (no second
        // 1 MiB array to allocate and fault in).
        inner.removeFirst(innerHeaderSize)
        return Opened(encoding: encoding, plaintextLength: length, stored: inner)
    }
}
