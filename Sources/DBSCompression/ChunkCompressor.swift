internal import CZstd

/// How a payload chunk's plaintext is stored before sealing.
package enum ChunkEncoding: UInt8, Sendable {
    /// The plaintext itself: it did not shrink enough to be worth a decompression.
    case raw = 0
    /// One zstd frame that states its content size.
    case zstd = 1
}

/// Compresses payload chunks with zstd, one self-contained frame per chunk, and
/// stores a chunk raw when compression does not pay.
///
/// Safe to use from many threads at once: each call borrows its own zstd context from
/// a pool shared by the copies of this value.
package struct ChunkCompressor: Sendable {
    /// A chunk that does not shrink by at least this fraction is stored raw: reading a
    /// raw chunk costs nothing, and already-compressed data gains nothing.
    package static let minimumSaving = 0.02

    /// The zstd levels a backup may record and the writer accepts: zstd's negative
    /// "fast" levels down to -7, up to 22. The one definition the options' check
    /// (`BackupOptions.zstdLevels`) and the descriptor's parser both refer to.
    package static let formatLevels: ClosedRange<Int32> = -7...22

    /// The levels the linked libzstd accepts (negative levels are its fast modes).
    package static var levelRange: ClosedRange<Int32> { ZSTD_minCLevel()...ZSTD_maxCLevel() }

    /// The largest plaintext length `decode` accepts (1 GiB; chunks are about 1 MiB):
    /// a last bound on what a damaged or hostile chunk record can make it allocate.
    package static let maximumPlaintextLength = 1 << 30

    package let level: Int32
    private let compressionContexts = ContextPool { () throws(CompressionError) in try ZstdCompressionContext() }
    private let decompressionContexts = ContextPool { () throws(CompressionError) in try ZstdDecompressionContext() }

    /// Level 1 by default: the best speed for its ratio on this project's data.
    package init(level: Int32 = 1) throws(CompressionError) {
        guard Self.levelRange.contains(level) else {
            throw .levelOutOfRange(level: level, range: Self.levelRange)
        }
        self.level = level
    }

    /// The chunk as stored: zstd if that saves at least `minimumSaving`, else raw.
    package func encode(_ plaintext: [UInt8]) throws(CompressionError) -> (encoding: ChunkEncoding, bytes: [UInt8]) {
        let limit = Int((Double(plaintext.count) * (1 - Self.minimumSaving)).rounded(.down))
        guard limit > 0 else { return (.raw, plaintext) }
        let compressed = try compress(plaintext)
        return compressed.count <= limit ? (.zstd, compressed) : (.raw, plaintext)
    }

    /// The plaintext of a stored chunk. `plaintextLength` comes from the (verified)
    /// chunk record and bounds everything: no allocation exceeds it, and a frame must
    /// state exactly that content size, decode to exactly that many bytes and end
    /// exactly where `bytes` ends.
    package func decode(
        _ bytes: [UInt8], encoding: ChunkEncoding, plaintextLength: Int
    ) throws(CompressionError) -> [UInt8] {
        guard (0...Self.maximumPlaintextLength).contains(plaintextLength) else {
            throw .invalidPlaintextLength(plaintextLength)
        }
        switch encoding {
        case .raw:
            guard bytes.count == plaintextLength else {
                throw .rawLengthMismatch(declared: plaintextLength, actual: bytes.count)
            }
            return bytes
        case .zstd:
            return try decompress(bytes, plaintextLength: plaintextLength)
        }
    }

    private func compress(_ plaintext: [UInt8]) throws(CompressionError) -> [UInt8] {
        let level = self.level
        return try compressionContexts.withContext { (context) throws(CompressionError) in
            let reset = ZSTD_CCtx_reset(context.pointer, ZSTD_reset_session_and_parameters)
            let setLevel = ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_compressionLevel, level)
            for status in [reset, setLevel] where ZSTD_isError(status) != 0 {
                throw .zstdFailure(zstdErrorName(status))
            }
            // Within the bound zstd cannot run out of room, so any error is a real one.
            let capacity = ZSTD_compressBound(plaintext.count)
            var status = 0
            var compressed = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                status = plaintext.withUnsafeBytes { source in
                    ZSTD_compress2(context.pointer, buffer.baseAddress, capacity, source.baseAddress, source.count)
                }
                initialized = ZSTD_isError(status) != 0 ? 0 : status
            }
            guard ZSTD_isError(status) == 0 else { throw .zstdFailure(zstdErrorName(status)) }
            if compressed.capacity > 2 * compressed.count { compressed = Array(compressed) }
            return compressed
        }
    }

    private func decompress(_ bytes: [UInt8], plaintextLength: Int) throws(CompressionError) -> [UInt8] {
        let (contentSize, frameSize): (UInt64, Int) = bytes.withUnsafeBytes { source in
            (
                ZSTD_getFrameContentSize(source.baseAddress, source.count),
                ZSTD_findFrameCompressedSize(source.baseAddress, source.count)
            )
        }
        // ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are the two largest UInt64 values.
        guard contentSize < UInt64.max - 1 else {
            throw .contentSizeMismatch(declared: plaintextLength, frameContentSize: nil)
        }
        guard contentSize == UInt64(plaintextLength) else {
            throw .contentSizeMismatch(declared: plaintextLength, frameContentSize: contentSize)
        }
        guard ZSTD_isError(frameSize) == 0 else { throw .corruptFrame(zstdErrorName(frameSize)) }
        guard frameSize == bytes.count else {
            throw .corruptFrame("the frame is \(frameSize) bytes, the chunk \(bytes.count)")
        }
        return try decompressionContexts.withContext { (context) throws(CompressionError) in
            var status = 0
            let plaintext = [UInt8](unsafeUninitializedCapacity: plaintextLength) { buffer, initialized in
                status = bytes.withUnsafeBytes { source in
                    ZSTD_decompressDCtx(
                        context.pointer, buffer.baseAddress, plaintextLength,
                        source.baseAddress, source.count)
                }
                initialized = ZSTD_isError(status) != 0 ? 0 : min(status, plaintextLength)
            }
            guard ZSTD_isError(status) == 0 else { throw .corruptFrame(zstdErrorName(status)) }
            guard status == plaintextLength else {
                throw .corruptFrame("the frame decoded to \(status) bytes, not \(plaintextLength)")
            }
            return plaintext
        }
    }
}

extension ChunkCompressor {
    /// The linked libzstd's version, e.g. "1.5.4".
    package static var libraryVersion: String { String(cString: ZSTD_versionString()) }
}
