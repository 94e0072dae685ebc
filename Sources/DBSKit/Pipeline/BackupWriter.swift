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
/// Plaintext is cut into chunks; batches of `2 * threads` chunks are compressed and
/// sealed in parallel; the sealed frames form the ciphertext stream, cut into stripes
/// whose parity (the Reed-Solomon batch API) and checksums are computed in parallel;
/// one thread writes the records in order. Memory stays at a few chunks and stripes
/// per thread, whatever the size of the backup.
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
    private let emitter: RecordEmitter
    private let background: BackgroundWriter
    /// Where copy A's records go while the stripe count is unknown.
    private let streamingLayout: ContainerLayout

    private var fullChunks: [[UInt8]] = []
    private var currentChunk: [UInt8] = []
    /// Chunk buffers already sealed, kept for reuse: a fresh 1 MiB array costs page
    /// faults and the kernel's zeroing of every page, measurable at this pipeline's speed.
    private var spareChunks: [[UInt8]] = []
    private var nextChunkIndex: UInt64 = 0
    private var stream: [UInt8] = []
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
        emitter = RecordEmitter(output: background, descriptor: descriptor, threads: options.threads)
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

    /// Compresses and seals `chunks` in parallel, appends the frames to the stream,
    /// and writes every stripe the stream fills (never the last one: a final chunk is
    /// still to come unless `lastIsFinal`).
    private func seal(_ chunks: [[UInt8]], lastIsFinal: Bool) throws(BackupError) {
        let first = nextChunkIndex
        let cipher = self.cipher, compressor = self.compressor, digest = options.verifyAfterWrite
        let frames: [Result<(frame: [UInt8], digest: [UInt8]), BackupError>] =
            Parallel.map(count: chunks.count, threads: options.threads) { i in
                let isFinal = lastIsFinal && i == chunks.count - 1
                return Result { () throws(BackupError) in
                    (try ChunkFrame.seal(chunks[i], index: first + UInt64(i), isFinal: isFinal, compressor: compressor,
                                         cipher: cipher),
                     digest ? ChecksumAlgorithm.xxh3_128.digest(chunks[i]).bytes : [])
                }
            }
        nextChunkIndex += UInt64(chunks.count)
        for result in frames {
            let (bytes, digest) = try result.get()
            chunkDigests.update(digest)
            stream.append(contentsOf: bytes)
            ciphertextLength += UInt64(bytes.count)
        }
        let capacity = streamingLayout.stripeDataCapacity
        let fullStripes = stream.count / capacity
        let stripes = lastIsFinal ? (stream.count + capacity - 1) / capacity : fullStripes
        if stripes > 0 {
            try writeStripes(count: stripes, isFinalBatch: lastIsFinal)
        }
    }

    /// Cuts `count` stripes from the front of the stream (the last one zero-padded
    /// when this is the final batch), encodes their parity, writes copy A's records.
    private func writeStripes(count: Int, isFinalBatch: Bool) throws(BackupError) {
        let layout = streamingLayout
        let capacity = layout.stripeDataCapacity, size = layout.stripeSize
        var buffer = [UInt8](repeating: 0, count: count * size)
        var lengths: [Int] = []
        for i in 0..<count {
            let start = i * capacity
            let length = min(capacity, stream.count - start)
            buffer.replaceSubrange((i * size)..<(i * size + length), with: stream[start..<(start + length)])
            lengths.append(length)
        }
        stream.removeFirst(min(stream.count, count * capacity))
        do {
            try code.encode(stripes: &buffer, shardLength: layout.shardSize, threads: options.threads)
        } catch {
            throw .internalFailure("Reed-Solomon encoding: \(error)")
        }
        var stripes: [RecordEmitter.Stripe] = []
        stripes.reserveCapacity(count)
        for i in 0..<count {
            stripes.append(RecordEmitter.Stripe(
                index: nextStripe + UInt64(i), shards: buffer[(i * size)..<((i + 1) * size)],
                dataLength: lengths[i], isLast: isFinalBatch && i == count - 1))
        }
        buffer = []
        try emitter.emit(stripes, copies: [0], layout: layout)
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
        stream = []
    }

    /// Copies copy A's records to copy B's place, reading them back from the temp file
    /// (the page cache) in parallel, re-encoding each header with copy = B (and, when
    /// no verify pass follows, checking each shard against its checksum first); the
    /// writes overlap the next reads.
    private func writeCopyB(_ layout: ContainerLayout) throws(BackupError) {
        let file = output!.file, descriptor = self.descriptor
        // With verify-after-write on, the verify pass checks every shard of copy A (and
        // B) anyway; without it, this is the only read-back check before duplication.
        let checkCopyA = !options.verifyAfterWrite
        try StripeBatches.forEach(stripeCount: layout.stripeCount, threads: options.threads) {
            (first, count) throws(BackupError) in
            let read: [Result<RecordEmitter.Stripe, BackupError>] = Parallel.map(count: count, threads: options.threads) { i in
                Result { () throws(BackupError) in
                    let stripe = first + UInt64(i)
                    let offset = layout.recordOffset(copy: 0, stripe: stripe)
                    let block: [UInt8], shards: [UInt8]
                    do throws(IOError) {
                        block = try file.read(count: ProtectedBlock.size, at: offset)
                        shards = try file.read(count: layout.stripeSize, at: offset + UInt64(layout.headerSize))
                    } catch {
                        throw BackupError(error)
                    }
                    guard shards.count == layout.stripeSize, let body = ProtectedBlock.decode(block)?.body,
                          let header = try? StripeHeader(body: body) else {
                        throw .verificationFailed("copy A's stripe \(stripe) did not read back")
                    }
                    let bad = !checkCopyA ? [] : ShardChecksums.failing(shards, shardCount: layout.totalShards, shardSize: layout.shardSize,
                                                     table: header.checksums, algorithm: descriptor.checksum)
                    guard bad.isEmpty else {
                        throw .verificationFailed("copy A's stripe \(stripe) read back with bad shards \(bad)")
                    }
                    return RecordEmitter.Stripe(index: stripe, shards: shards[...], dataLength: header.dataLength,
                                                isLast: header.isLast, checksums: header.checksums)
                }
            }
            var stripes: [RecordEmitter.Stripe] = []
            for result in read { stripes.append(try result.get()) }
            try emitter.emit(stripes, copies: [1], layout: layout)
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
