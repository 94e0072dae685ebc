#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished backup is.
public struct BackupSummary: Sendable, Equatable {
    public var path: String
    /// 32 hex digits.
    public var backupID: String
    public var plaintextBytes: UInt64
    public var ciphertextBytes: UInt64
    public var fileBytes: UInt64
    public var chunks: UInt64
    public var stripes: UInt64
    /// SHA-256 over the XXH3-128 digests of the plaintext chunks in order, 64 hex
    /// digits: what verify-after-write recomputes from the decrypted file. XXH3 per
    /// chunk (0.04 ns per byte, in the chunk workers) rather than one SHA-256 of the
    /// stream (0.74 ns per byte measured here, serial): it only has to catch a
    /// write that does not read back, while GCM authenticates the ciphertext and the
    /// payload carries its own SHA-256 of the whole plaintext. Empty when
    /// `verifyAfterWrite` is off (nothing would check it).
    public var plaintextDigest: String
    /// The finished file was read back and checked before it was renamed into place.
    public var verified: Bool
}

/// Writes one backup file from a plaintext byte stream.
///
/// Plaintext is cut into chunks; batches of `2 * threads` chunks are compressed in
/// parallel, which fixes every frame's place in the ciphertext stream; the frames are
/// then sealed in parallel straight into that place in a reusable batch buffer, which
/// holds the stream contiguously (its stripes' data shards back to back); each
/// stripe's parity (into a second buffer), shard checksums and header are computed
/// in one parallel pass; a background thread writes the records in order straight
/// from those buffers while the next batch is computed. Memory stays at a few
/// batch buffers, whatever the size of the backup (docs/PERFORMANCE.md, "Write and
/// read pipelines").
///
/// Copy B is written after copy A, by reading copy A back from the file: its offset
/// depends on the stripe count, known only at the end, and reading back from the page
/// cache costs less than spooling (docs/FORMAT.md, "Why copy B is written last").
/// `finish` then writes the three heads, fsyncs, verifies, and renames into place;
/// `abort`, a failure, or dropping the writer unfinished removes the temp file.
public final class BackupWriter: ByteSink {
    private let options: BackupOptions
    private var output: AtomicOutputFile?
    private let descriptor: BackupDescriptor
    private let cipher: ChunkCipher
    private let compressor: ChunkCompressor?
    private let code: ReedSolomon
    private let background: BackgroundWriter
    /// Where copy A's records go while the stripe count is unknown.
    private let streamingLayout: ContainerLayout

    private var fullChunks: [[UInt8]] = []
    private var currentChunk: [UInt8] = []
    /// Chunk buffers already sealed, kept for reuse: a fresh 1 MiB array costs page
    /// faults and the kernel's zeroing of every page, measurable at this pipeline's speed.
    private var spareChunks: [[UInt8]] = []
    private var nextChunkIndex: UInt64 = 0
    /// Batch buffers (ciphertext stream, parity, copy B records), reused.
    private let pool = BufferPool()
    /// The ciphertext of the stripe being filled (less than one stripe), at the end of
    /// the last batch's stream buffer; `owned` when that buffer was not handed to the
    /// background writer (no stripe completed) and so goes back to the pool here.
    private var partial: (buffer: AlignedBuffer, range: Range<Int>, owned: Bool)?
    private var ciphertextLength: UInt64 = 0
    private var nextStripe: UInt64 = 0
    private var plaintextLength: UInt64 = 0
    /// SHA-256 over the per-chunk XXH3-128 digests (`BackupSummary.plaintextDigest`).
    private var chunkDigests = SHA256Hasher()
    private var closed = false

    private var batchChunks: Int { max(2, 2 * options.threads) }

    /// Creates the temp file beside `destination` and derives the keys. Refuses an
    /// existing destination unless `options.overwrite`.
    public init(destination: String, passphrase: SecureBytes, options: BackupOptions) throws(BackupError) {
        let options = try options.validated()
        self.options = options
        do {
            output = try AtomicOutputFile(destination: destination, overwrite: options.overwrite)
        } catch {
            if error.errno == EEXIST { throw .destinationExists(destination) }
            throw BackupError(error)
        }
        do {
            let backupID = try SecureRandom.bytes(16)
            let salt = try SecureRandom.bytes(Argon2id.saltLength)
            let dataKey = try SecureBytes(randomCount: 32)
            var descriptor = BackupDescriptor(
                backupID: backupID, created: Int64(time(nil)), salt: salt, kdf: options.kdf,
                wrappedKey: [UInt8](repeating: 0, count: WrappedKey.serializedLength), chunkSize: options.chunkSize,
                compression: options.compression, checksum: options.checksum, copies: options.copies,
                dataShards: options.dataShards, parityShards: options.parityShards, shardSize: options.shardSize)
            let keyEncryptionKey = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, parameters: options.kdf)
            descriptor.wrappedKey = try KeyEnvelope.wrap(dataKey: dataKey, keyEncryptionKey: keyEncryptionKey,
                                                         associatedData: descriptor.wrapAssociatedData).bytes
            self.descriptor = descriptor
            cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        } catch {
            output?.discard()
            if case .kdfParametersOutOfBounds(let why) = error { throw .kdfParametersOutOfBounds(why) }
            throw .internalFailure("setting up the keys: \(error)")
        }
        if case .zstd(let level) = options.compression {
            do {
                compressor = try ChunkCompressor(level: level)
            } catch {
                output?.discard()
                throw .invalidOptions("\(error)")
            }
        } else {
            compressor = nil
        }
        do {
            code = try ReedSolomon(dataShards: options.dataShards, parityShards: options.parityShards)
        } catch {
            output?.discard()
            throw .invalidOptions("\(error)")
        }
        streamingLayout = descriptor.layout(stripeCount: 0)
        background = BackgroundWriter(file: output!.file)
        currentChunk.reserveCapacity(options.chunkSize)
    }

    deinit { output?.discard() }

    /// The backup id, 32 hex digits.
    public var backupID: String { Self.hex(descriptor.backupID) }

    /// Appends plaintext to the backup.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw BackupError.writerClosed }
        do {
            try append(bytes)
        } catch {
            abort()
            throw error
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        plaintextLength += UInt64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            // More input follows, so every chunk already full is not the final one.
            if fullChunks.count == batchChunks {
                try seal(fullChunks, lastIsFinal: false)
                for var chunk in fullChunks {
                    chunk.removeAll(keepingCapacity: true)
                    spareChunks.append(chunk)
                }
                fullChunks.removeAll(keepingCapacity: true)
            }
            let take = min(bytes.count - offset, options.chunkSize - currentChunk.count)
            currentChunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            if currentChunk.count == options.chunkSize {
                fullChunks.append(currentChunk)
                currentChunk = spareChunks.popLast() ?? []
                currentChunk.reserveCapacity(options.chunkSize)
            }
        }
    }

    /// Compresses and seals `chunks` in parallel into the stream buffer and writes every
    /// stripe the stream fills (never the last one: a final chunk is still to come
    /// unless `lastIsFinal`).
    private func seal(_ chunks: [[UInt8]], lastIsFinal: Bool) throws(BackupError) {
        let first = nextChunkIndex
        let cipher = self.cipher, compressor = self.compressor, digest = options.verifyAfterWrite
        let compressed: [Result<(encoding: ChunkEncoding, bytes: [UInt8]), BackupError>] =
            Parallel.map(count: chunks.count, threads: options.threads) { i in
                Result { () throws(BackupError) in try ChunkFrame.stored(chunks[i], index: first + UInt64(i), compressor: compressor) }
            }
        var stored: [(encoding: ChunkEncoding, bytes: [UInt8])] = []
        stored.reserveCapacity(chunks.count)
        for result in compressed { stored.append(try result.get()) }

        // Every frame's place in the stream buffer, after the carried partial stripe.
        let capacity = streamingLayout.stripeDataCapacity
        var offsets: [Int] = []
        var end = partial?.range.count ?? 0
        for form in stored {
            offsets.append(end)
            end += ChunkFrame.frameLength(storedCount: form.bytes.count)
        }
        let stripes = lastIsFinal ? (end + capacity - 1) / capacity : end / capacity
        let buffer = pool.take(count: max(streamBufferSize, stripes * capacity, end))
        if let partial {
            partial.buffer.withUnsafeBytes { bytes in
                _ = buffer.copy(UnsafeRawBufferPointer(rebasing: bytes[partial.range]), to: 0)
            }
            if partial.owned && partial.buffer !== buffer { pool.give(partial.buffer) }
            self.partial = nil
        }

        let forms = stored, places = offsets
        let sealed: [Result<[UInt8], BackupError>] = Parallel.map(count: chunks.count, threads: options.threads) { i in
            Result { () throws(BackupError) in
                try ChunkFrame.seal(forms[i], plaintextLength: chunks[i].count, index: first + UInt64(i),
                                    isFinal: lastIsFinal && i == chunks.count - 1, cipher: cipher,
                                    into: buffer, at: places[i])
                return digest ? ChecksumAlgorithm.xxh3_128.digest(chunks[i]).bytes : []
            }
        }
        nextChunkIndex += UInt64(chunks.count)
        for result in sealed { chunkDigests.update(try result.get()) }
        ciphertextLength += UInt64(end - (offsets.first ?? end))
        if lastIsFinal { buffer.zero(end..<(stripes * capacity)) }
        if stripes > 0 {
            try writeStripes(count: stripes, from: buffer, streamLength: end, isFinalBatch: lastIsFinal)
        }
        if stripes * capacity < end {
            partial = (buffer, (stripes * capacity)..<end, owned: stripes == 0)
        } else if stripes == 0 {
            pool.give(buffer)
        }
    }

    /// Bytes of a stream buffer: room for a partial stripe and a batch of frames, in
    /// whole stripes, so that every batch fits the same reusable buffers.
    private var streamBufferSize: Int {
        let capacity = streamingLayout.stripeDataCapacity
        let frames = batchChunks * ChunkFrame.frameLength(storedCount: options.chunkSize)
        return (capacity + frames + capacity - 1) / capacity * capacity
    }

    /// Encodes the parity, checksums and header of the first `count` stripes of the
    /// stream in `buffer` (one parallel pass, a stripe per step) and hands copy A's
    /// records to the background writer, which writes them straight from the buffers.
    private func writeStripes(count: Int, from buffer: AlignedBuffer, streamLength: Int,
                              isFinalBatch: Bool) throws(BackupError) {
        let layout = streamingLayout, descriptor = self.descriptor, code = self.code
        let capacity = layout.stripeDataCapacity, shardSize = layout.shardSize
        let parityLength = layout.parityShards * shardSize
        let parity = pool.take(count: streamBufferSize / capacity * parityLength)
        let firstStripe = nextStripe
        let headers: [Result<[UInt8], BackupError>] = Parallel.map(count: count, threads: options.threads) { i in
            Result { () throws(BackupError) in
                do {
                    try code.encode(data: buffer, at: i * capacity, parity: parity, at: i * parityLength,
                                    shardLength: shardSize)
                } catch {
                    throw .internalFailure("Reed-Solomon encoding: \(error)")
                }
                let table = buffer.withUnsafeBytes { data in
                    parity.withUnsafeBytes { parity in
                        ShardChecksums.table(of: UnsafeRawBufferPointer(rebasing: data[(i * capacity)..<((i + 1) * capacity)]),
                                             shardCount: layout.dataShards, shardSize: shardSize, algorithm: descriptor.checksum)
                            + ShardChecksums.table(
                                of: UnsafeRawBufferPointer(rebasing: parity[(i * parityLength)..<((i + 1) * parityLength)]),
                                shardCount: layout.parityShards, shardSize: shardSize, algorithm: descriptor.checksum)
                    }
                }
                return StripeHeader(copy: 0, isLast: isFinalBatch && i == count - 1, stripeIndex: firstStripe + UInt64(i),
                                    dataLength: min(capacity, streamLength - i * capacity), descriptor: descriptor,
                                    checksums: table).encoded
            }
        }
        var writes: [BackgroundWriter.Write] = []
        writes.reserveCapacity(3 * count)
        for i in 0..<count {
            let offset = layout.recordOffset(copy: 0, stripe: firstStripe + UInt64(i))
            let shards = offset + UInt64(layout.headerSize)
            writes.append(.init(bytes: try headers[i].get()[...], offset: offset))
            writes.append(.init(buffer: buffer, range: (i * capacity)..<((i + 1) * capacity), offset: shards))
            writes.append(.init(buffer: parity, range: (i * parityLength)..<((i + 1) * parityLength),
                                offset: shards + UInt64(capacity)))
        }
        let pool = self.pool
        do throws(IOError) {
            try background.submit(writes) {
                pool.give(parity)
                pool.give(buffer)
            }
        } catch {
            throw BackupError(error)
        }
        nextStripe += UInt64(count)
    }

    /// Seals the last chunk, writes copy B and the heads, fsyncs, verifies the file
    /// (unless `verifyAfterWrite` is off) and renames it into place.
    public func finish() throws(BackupError) -> BackupSummary {
        guard !closed, let output else { throw .writerClosed }
        do throws(BackupError) {
            if !currentChunk.isEmpty || fullChunks.isEmpty { fullChunks.append(currentChunk) }
            currentChunk = []
            try seal(fullChunks, lastIsFinal: true)
            fullChunks = []
            let layout = descriptor.layout(stripeCount: nextStripe)
            do { try background.drain() } catch { throw BackupError(error) }
            if layout.copies == 2 { try writeCopyB(layout) }
            do { try background.drain() } catch { throw BackupError(error) }
            try writeHeads(layout)
            do { try output.file.sync() } catch { throw BackupError(error) }
            let digest = chunkDigests.finalize()
            if options.verifyAfterWrite { try verify(layout: layout, expectedDigest: digest) }
            do {
                try output.commit()
            } catch {
                if error.errno == EEXIST { throw BackupError.destinationExists(output.destination) }
                throw BackupError(error)
            }
            closed = true
            self.output = nil
            return BackupSummary(
                path: output.destination, backupID: backupID, plaintextBytes: plaintextLength,
                ciphertextBytes: ciphertextLength, fileBytes: layout.fileLength, chunks: nextChunkIndex,
                stripes: nextStripe, plaintextDigest: options.verifyAfterWrite ? Self.hex(digest) : "", verified: options.verifyAfterWrite)
        } catch {
            abort()
            throw error
        }
    }

    /// Stops: the temp file is removed and nothing appears at the destination.
    public func abort() {
        closed = true
        output?.discard()
        output = nil
        fullChunks = []
        currentChunk = []
        spareChunks = []
        partial = nil
        pool.removeAll()
    }

    /// Copies copy A's records to copy B's place, reading them back from the temp file
    /// (the page cache) in parallel into a reused buffer, re-encoding each header in
    /// place with copy = B (and, when no verify pass follows, checking each shard
    /// against its checksum first), then writing the batch's records (contiguous in
    /// both copies) with one write that overlaps the next reads.
    private func writeCopyB(_ layout: ContainerLayout) throws(BackupError) {
        let file = output!.file, descriptor = self.descriptor, pool = self.pool
        let recordSize = layout.recordSize, headerSize = layout.headerSize
        // With verify-after-write on, the verify pass checks every shard of copy A (and
        // B) anyway; without it, this is the only read-back check before duplication.
        let checkCopyA = !options.verifyAfterWrite
        let batch = max(2, 2 * options.threads)
        try StripeBatches.forEach(stripeCount: layout.stripeCount, threads: options.threads) {
            (first, count) throws(BackupError) in
            let buffer = pool.take(count: batch * recordSize)
            let read: [Result<Void, BackupError>] = Parallel.map(count: count, threads: options.threads) { i in
                Result { () throws(BackupError) in
                    let stripe = first + UInt64(i)
                    let record = (i * recordSize)..<((i + 1) * recordSize)
                    let got = buffer.withUnsafeMutableBytes { bytes in
                        Result { () throws(IOError) in
                            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[record]),
                                          at: layout.recordOffset(copy: 0, stripe: stripe))
                        }
                    }
                    let header: StripeHeader
                    do {
                        guard try got.get() == recordSize,
                              let body = ProtectedBlock.decode(buffer[record.lowerBound..<(record.lowerBound + ProtectedBlock.size)])?.body
                        else {
                            throw BackupError.verificationFailed("copy A's stripe \(stripe) did not read back")
                        }
                        header = try StripeHeader(body: body)
                    } catch let error as BackupError {
                        throw error
                    } catch let error as IOError {
                        throw BackupError(error)
                    } catch {
                        throw .verificationFailed("copy A's stripe \(stripe) did not read back")
                    }
                    let bad = !checkCopyA ? [] : buffer.withUnsafeBytes { bytes in
                        ShardChecksums.failing(UnsafeRawBufferPointer(rebasing: bytes[(record.lowerBound + headerSize)..<record.upperBound]),
                                               shardCount: layout.totalShards, shardSize: layout.shardSize,
                                               table: header.checksums, algorithm: descriptor.checksum)
                    }
                    guard bad.isEmpty else {
                        throw .verificationFailed("copy A's stripe \(stripe) read back with bad shards \(bad)")
                    }
                    let copyB = StripeHeader(copy: 1, isLast: header.isLast, stripeIndex: stripe, dataLength: header.dataLength,
                                             descriptor: descriptor, checksums: header.checksums).encoded
                    copyB.withUnsafeBytes { _ = buffer.copy($0, to: record.lowerBound) }
                }
            }
            do throws(BackupError) {
                for result in read { try result.get() }
            } catch {
                pool.give(buffer)
                throw error
            }
            do throws(IOError) {
                try background.submit([.init(buffer: buffer, range: 0..<(count * recordSize),
                                             offset: layout.recordOffset(copy: 1, stripe: first))]) { pool.give(buffer) }
            } catch {
                throw BackupError(error)
            }
        }
    }

    private func writeHeads(_ layout: ContainerLayout) throws(BackupError) {
        let file = output!.file
        do {
            try file.truncate(to: layout.fileLength)
            for head in 0..<3 {
                let record = HeadRecord(headIndex: head, descriptor: descriptor, stripeCount: layout.stripeCount,
                                        ciphertextLength: ciphertextLength, chunkCount: nextChunkIndex)
                try file.write(record.encoded, at: layout.headBlockOffset(head))
            }
        } catch {
            throw BackupError(error)
        }
    }

    /// Reads the temp file back as a restore would, but through both copies: every
    /// shard checksum of both copies, full decryption of the payload, and the plaintext
    /// digest (`BackupSummary.plaintextDigest`) against the one computed while writing.
    private func verify(layout: ContainerLayout, expectedDigest: [UInt8]) throws(BackupError) {
        let file: PositionedFile
        do { file = try PositionedFile.openForReading(output!.temporaryPath) } catch { throw BackupError(error) }
        let located = try ContainerLocator.locate(file)
        guard located.layout == layout, located.descriptor == descriptor, !located.fromScan,
              located.heads.allSatisfy({ $0 == .intact }) else {
            throw .verificationFailed("the heads did not read back intact")
        }
        let engine = try RestoreEngine(file: file, located: located, cipher: cipher, threads: options.threads,
                                       examineBothCopies: true, digestChunks: true)
        do {
            while try engine.next() != nil {}
        } catch {
            throw .verificationFailed("\(error)")
        }
        guard engine.report.isClean else { throw .verificationFailed("read-back found damage: \(engine.report)") }
        guard engine.plaintextDigest() == expectedDigest else {
            throw .verificationFailed("the plaintext read back does not match its digest")
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
