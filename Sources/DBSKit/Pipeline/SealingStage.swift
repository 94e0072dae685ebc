import DBSCompression
import Dispatch
internal import Synchronization

/// The parallel half of `BackupWriter`, on a thread of its own.
///
/// A batch of full plaintext chunks is compressed in parallel, which fixes every
/// frame's place in the ciphertext stream; the frames are then sealed in parallel
/// straight into that place in a reusable batch buffer, which holds the stream
/// contiguously (its stripes' data shards back to back); each stripe's parity (into a
/// second buffer), shard checksums and header are computed in one parallel pass; the
/// background writer writes the records in order straight from those buffers.
///
/// Why a thread of its own: the caller of `BackupWriter.write` is the producer (the
/// file-tree reader, which also hashes every file with SHA-256, a serial cost). Run
/// inline, each batch would wait for the producer and the producer for each batch, one
/// core idle either way; here the producer fills the next batch while this stage seals
/// the last one (docs/PERFORMANCE.md, "Write and read pipelines").
///
/// Discipline that makes the `@unchecked Sendable` sound: the mutable state below is
/// touched only by the one block running on `queue` (a serial queue), or by the caller
/// after `drain()` returned (the queue's completion orders the two).
final class SealingStage: @unchecked Sendable {
    /// What the stage wrote, read after the final batch.
    struct Totals {
        var chunks: UInt64
        var stripes: UInt64
        var ciphertextLength: UInt64
        /// `BackupSummary.plaintextDigest` (empty unless the chunks were digested).
        var plaintextDigest: [UInt8]
    }

    private let threads: Int
    private let chunkSize: Int
    private let digestChunks: Bool
    private let descriptor: BackupDescriptor
    private let cipher: ChunkCipher
    private let compressor: ChunkCompressor?
    private let code: ReedSolomon
    private let background: BackgroundWriter
    /// Where copy A's records go while the stripe count is unknown.
    private let layout: ContainerLayout
    /// Batch buffers (ciphertext stream, parity), reused.
    private let pool = BufferPool()

    private let queue = DispatchQueue(label: "dbs.sealing-stage")
    /// At most two batches in the stage (one sealing, one queued): the caller fills a
    /// third meanwhile, and memory stays bounded. With one, the caller and the stage
    /// took turns more often than they overlapped (measured: 2 GiB tree, write phase
    /// 5.2-5.4 s at depth 1 and four chunks a batch, 4.3-4.6 s at depth 2 and eight).
    private let slots = DispatchSemaphore(value: 2)
    private let failure = Mutex<BackupError?>(nil)
    /// Chunk buffers already sealed, for the caller to fill again: a fresh 1 MiB array
    /// costs page faults and the kernel's zeroing of every page.
    private let spareChunks = Mutex<[[UInt8]]>([])

    // State of the stream; see the discipline above.
    private var nextChunkIndex: UInt64 = 0
    /// The ciphertext of the stripe being filled (less than one stripe), at the end of
    /// the last batch's stream buffer; `owned` when that buffer was not handed to the
    /// background writer (no stripe completed) and so goes back to the pool here.
    private var partial: (buffer: AlignedBuffer, range: Range<Int>, owned: Bool)?
    private var ciphertextLength: UInt64 = 0
    private var nextStripe: UInt64 = 0
    /// SHA-256 over the per-chunk XXH3-128 digests (`BackupSummary.plaintextDigest`).
    private var chunkDigests = SHA256Hasher()

    init(options: BackupOptions, descriptor: BackupDescriptor, cipher: ChunkCipher, compressor: ChunkCompressor?,
         code: ReedSolomon, background: BackgroundWriter) {
        threads = options.threads
        chunkSize = options.chunkSize
        digestChunks = options.verifyAfterWrite
        self.descriptor = descriptor
        self.cipher = cipher
        self.compressor = compressor
        self.code = code
        self.background = background
        layout = descriptor.layout(stripeCount: 0)
    }

    /// Chunks per batch: four per thread, so that a batch's parallel passes have items
    /// enough to balance (a chunk of text takes ten times as long to compress as a
    /// random one) and their barriers are few; two per thread beyond eight threads,
    /// where a batch has items enough anyway and memory grows with it.
    static func batchChunks(threads: Int) -> Int { Parallel.roundItems(threads: threads) }

    /// Takes a batch of full chunks, none of them the final one (`chunks` is left
    /// empty), and returns as soon as the stage has it queued (waiting while the
    /// previous batch is still in the stage). Throws the stage's first failure.
    func submit(_ chunks: inout [[UInt8]]) throws(BackupError) {
        try rethrowFailure()
        let batch = Batch(chunks)
        chunks = []
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure.withLock({ $0 == nil }) else { return }
            do throws(BackupError) {
                try seal(batch.chunks, lastIsFinal: false)
            } catch {
                failure.withLock { $0 = $0 ?? error }
                return
            }
            recycle(batch)
        }
    }

    /// A batch's chunks, moved from the caller to the stage. A box, so that once sealed
    /// the stage holds the only reference to each chunk buffer and can empty it for
    /// reuse without copying (an array emptied while shared would get a new buffer).
    private final class Batch: @unchecked Sendable {
        var chunks: [[UInt8]]
        init(_ chunks: [[UInt8]]) { self.chunks = chunks }
    }

    /// Hands a sealed batch's chunk buffers back for the caller to fill again.
    private func recycle(_ batch: Batch) {
        var chunks = batch.chunks
        batch.chunks = []
        spareChunks.withLock { spare in
            while var chunk = chunks.popLast() {
                chunk.removeAll(keepingCapacity: true)
                spare.append(chunk)
            }
        }
    }

    /// A chunk buffer to fill (empty, with its capacity kept), if a sealed one is spare.
    func takeSpareChunk() -> [UInt8]? {
        spareChunks.withLock { $0.popLast() }
    }

    /// Seals the last batch (its last chunk is the final one; at least one chunk) after
    /// everything queued, waits until all of it is in the file, frees the stage's
    /// buffers (the read-back that follows has its own), and returns what was written.
    func finish(_ chunks: [[UInt8]]) throws(BackupError) -> Totals {
        drain()
        try rethrowFailure()
        try seal(chunks, lastIsFinal: true)
        do { try background.drain() } catch { throw BackupError(error) }
        pool.removeAll()
        spareChunks.withLock { $0.removeAll() }
        return Totals(chunks: nextChunkIndex, stripes: nextStripe, ciphertextLength: ciphertextLength,
                      plaintextDigest: digestChunks ? chunkDigests.finalize() : [])
    }

    /// Stops: a queued batch is skipped, the one running finishes, spare buffers go.
    func cancel() {
        failure.withLock { $0 = $0 ?? .writerClosed }
        drain()
        partial = nil
        pool.removeAll()
        spareChunks.withLock { $0.removeAll() }
    }

    /// Waits until every queued batch is done (handed to the background writer).
    func drain() { queue.sync {} }

    private func rethrowFailure() throws(BackupError) {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Compresses and seals `chunks` in parallel into the stream buffer and writes every
    /// stripe the stream fills (never the last one: a final chunk is still to come
    /// unless `lastIsFinal`).
    private func seal(_ chunks: [[UInt8]], lastIsFinal: Bool) throws(BackupError) {
        let first = nextChunkIndex
        let cipher = self.cipher, compressor = self.compressor, digest = digestChunks
        let compressed: [Result<(encoding: ChunkEncoding, bytes: [UInt8]), BackupError>] =
            Parallel.map(count: chunks.count, threads: threads) { i in
                Result { () throws(BackupError) in try ChunkFrame.stored(chunks[i], index: first + UInt64(i), compressor: compressor) }
            }
        var stored: [(encoding: ChunkEncoding, bytes: [UInt8])] = []
        stored.reserveCapacity(chunks.count)
        for result in compressed { stored.append(try result.get()) }

        // Every frame's place in the stream buffer, after the carried partial stripe.
        let capacity = layout.stripeDataCapacity
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
        let sealed: [Result<[UInt8], BackupError>] = Parallel.map(count: chunks.count, threads: threads) { i in
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
        let capacity = layout.stripeDataCapacity
        let frames = Self.batchChunks(threads: threads) * ChunkFrame.frameLength(storedCount: chunkSize)
        return (capacity + frames + capacity - 1) / capacity * capacity
    }

    /// Encodes the parity, checksums and header of the first `count` stripes of the
    /// stream in `buffer` (one parallel pass, a stripe per step) and hands copy A's
    /// records to the background writer, which writes them straight from the buffers.
    private func writeStripes(count: Int, from buffer: AlignedBuffer, streamLength: Int,
                              isFinalBatch: Bool) throws(BackupError) {
        let layout = self.layout, descriptor = self.descriptor, code = self.code
        let capacity = layout.stripeDataCapacity, shardSize = layout.shardSize
        let parityLength = layout.parityShards * shardSize
        let parity = pool.take(count: streamBufferSize / capacity * parityLength)
        let firstStripe = nextStripe
        let headers: [Result<[UInt8], BackupError>] = Parallel.map(count: count, threads: threads) { i in
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
}
