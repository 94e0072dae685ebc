import DBSCompression
import DBSSecurity

/// A payload chunk as the pipeline seals and opens it: its stored form (zstd or raw,
/// the compression layer's), sealed into the ciphertext stream by the security layer's
/// `SealedChunk`. The writer's stage and the restore call this; the two layers below
/// stay unaware of each other.
enum PayloadChunk {
    /// The stored form of `plaintext`: compressed when `compressor` is given and it
    /// pays, else the plaintext itself (no copy).
    static func stored(
        _ plaintext: [UInt8], index: UInt64,
        compressor: ChunkCompressor?
    ) throws(BackupError) -> (encoding: ChunkEncoding, bytes: [UInt8]) {
        guard let compressor else { return (.raw, plaintext) }
        do {
            return try compressor.encode(plaintext)
        } catch {
            throw .internalFailure("compressing chunk \(index)", cause: error)
        }
    }

    /// Seals chunk `index` straight into `buffer` at `offset`
    /// (`SealedChunk.seal`).
    static func seal(
        _ stored: (encoding: ChunkEncoding, bytes: [UInt8]), plaintextLength: Int, index: UInt64,
        isFinal: Bool, cipher: ChunkCipher, into buffer: AlignedBuffer, at offset: Int
    ) throws(BackupError) {
        do {
            try buffer.withUnsafeMutableBytes { (whole) throws(SealedChunkError) in
                try SealedChunk.seal(
                    encoding: stored.encoding.rawValue, stored: stored.bytes,
                    plaintextLength: plaintextLength, index: index, isFinal: isFinal, cipher: cipher,
                    into: whole, at: offset)
            }
        } catch {
            throw BackupError(error)
        }
    }

    /// The plaintext of a sealed chunk (a slice of the verified ciphertext stream);
    /// nothing is returned unless the GCM tag verifies.
    static func open(
        _ sealed: ArraySlice<UInt8>, index: UInt64, isFinal: Bool, cipher: ChunkCipher,
        decompressor: ChunkCompressor, chunkSize: Int
    ) throws(BackupError) -> [UInt8] {
        let opened: SealedChunk.Opened
        do { opened = try SealedChunk.open(sealed, index: index, isFinal: isFinal, cipher: cipher) } catch {
            throw BackupError(error)
        }
        guard let encoding = ChunkEncoding(rawValue: opened.encoding) else {
            throw BackupError(SealedChunkError.invalidInnerHeader(chunk: index))
        }
        guard opened.plaintextLength <= chunkSize else {
            throw .corruptedStream(
                "chunk \(index) declares \(opened.plaintextLength) plaintext bytes, "
                    + "more than the chunk size \(chunkSize)")
        }
        do {
            return try decompressor.decode(opened.stored, encoding: encoding, plaintextLength: opened.plaintextLength)
        } catch {
            throw .corruptedStream("chunk \(index) does not decompress: \(error)")
        }
    }
}

extension BackupError {
    /// The sealed-chunk codec's errors, as users see them: a stream defect, a corrupted
    /// chunk, or (what the writer's own buffers and cipher cannot do) an internal failure.
    init(_ error: SealedChunkError) {
        switch error {
        case .impossibleLength, .invalidInnerHeader: self = .corruptedStream(error.description)
        case .authenticationFailed(let index): self = .corruptedChunk(index: index)
        case .doesNotFit: self = .internalFailure(error.description)
        case .sealing(let index, let cause): self = .internalFailure("sealing chunk \(index)", cause: cause)
        case .opening(let index, let cause): self = .internalFailure("opening chunk \(index)", cause: cause)
        }
    }
}
