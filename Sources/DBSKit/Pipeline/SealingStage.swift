import DBSCompression
import DBSIO
import DBSIntegrity
import DBSSecurity
import Dispatch
internal import Synchronization

/// The parallel half of `BackupWriter`, on a thread of its own.
///
/// A batch of full plaintext chunks is compressed in parallel, which fixes every
/// sealed chunk's place in the ciphertext stream; the chunks are then sealed in parallel
/// straight into that place in a reusable batch buffer, which holds the stream
/// contiguously (its stripes' data shards back to back); the container writer computes
/// each stripe's parity (into a second buffer), shard checksums and header in one
/// parallel pass and has the background writer write the records in order straight
/// from those buffers.
///
/// Why a thread of its own: the caller of `BackupWriter.write` is the producer (the
/// file-tree reader, which also hashes every file with SHA-256, a serial cost). Run
/// inline, each batch would wait for the producer and the producer for each batch, one
/// core idle either way; here the producer fills the next batch while this stage seals
/// the last one (docs/PERFORMANCE.md, "Write and read pipelines").
///
/// The stream's state (`Stream`) is under a mutex the compiler checks. It is taken once
/// per batch, by the one block running on `queue` (a serial queue) or by the caller
/// after `drain()` returned, so it is never contended: the queue orders the two, the
/// lock proves it.
final class SealingStage: Sendable {
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
    private let cipher: ChunkCipher
    private let compressor: ChunkCompressor?
    /// Builds and writes copy A's records.
    private let container: ContainerWriter
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

    /// Where the stream stands after the batches sealed so far.
    private struct Stream {
        var nextChunkIndex: UInt64 = 0
        /// The ciphertext of the stripe being filled (less than one stripe), at the end of
        /// the last batch's stream buffer; `owned` when that buffer was not handed to the
        /// container writer (no stripe completed) and so goes back to the pool here.
        var partial: (buffer: AlignedBuffer, range: Range<Int>, owned: Bool)?
        var ciphertextLength: UInt64 = 0
        var nextStripe: UInt64 = 0
        /// SHA-256 over the per-chunk XXH3-128 digests (`BackupSummary.plaintextDigest`).
        var chunkDigests = SHA256Hasher()
    }

    private let stream = Mutex(Stream())

    init(options: BackupOptions, cipher: ChunkCipher, compressor: ChunkCompressor?, container: ContainerWriter) {
        threads = options.threads
        chunkSize = options.chunkSize
        digestChunks = options.verifyAfterWrite
        self.cipher = cipher
        self.compressor = compressor
        self.container = container
        layout = container.streamingLayout
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
        do { try container.drain() } catch { throw BackupError(error) }
        pool.removeAll()
        spareChunks.withLock { $0.removeAll() }
        let digestChunks = self.digestChunks
        return stream.withLock { stream in
            Totals(
                chunks: stream.nextChunkIndex, stripes: stream.nextStripe, ciphertextLength: stream.ciphertextLength,
                plaintextDigest: digestChunks ? stream.chunkDigests.finalize() : [])
        }
    }

    /// Stops: a queued batch is skipped, the one running finishes, spare buffers go.
    func cancel() {
        failure.withLock { $0 = $0 ?? .writerClosed }
        drain()
        stream.withLock { $0.partial = nil }
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
    /// unless `lastIsFinal`), under the stream's lock.
    private func seal(_ chunks: [[UInt8]], lastIsFinal: Bool) throws(BackupError) {
        try stream.withLock { (stream) throws(BackupError) in try seal(chunks, lastIsFinal: lastIsFinal, &stream) }
    }

    private func seal(_ chunks: [[UInt8]], lastIsFinal: Bool, _ stream: inout Stream) throws(BackupError) {
        let first = stream.nextChunkIndex
        let cipher = self.cipher
        let compressor = self.compressor
        let digest = digestChunks
        let compressed: [Result<(encoding: ChunkEncoding, bytes: [UInt8]), BackupError>] =
            Parallel.map(count: chunks.count, threads: threads) { i in
                Result { () throws(BackupError) in
                    try PayloadChunk.stored(chunks[i], index: first + UInt64(i), compressor: compressor)
                }
            }
        var stored: [(encoding: ChunkEncoding, bytes: [UInt8])] = []
        stored.reserveCapacity(chunks.count)
        for result in compressed { stored.append(try result.get()) }

        // Every sealed chunk's place in the stream buffer, after the carried partial stripe.
        let capacity = layout.stripeDataCapacity
        var offsets: [Int] = []
        var end = stream.partial?.range.count ?? 0
        for form in stored {
            offsets.append(end)
            end += SealedChunk.length(storedCount: form.bytes.count)
        }
        let stripes = lastIsFinal ? (end + capacity - 1) / capacity : end / capacity
        let buffer = pool.take(count: max(streamBufferSize, stripes * capacity, end))
        if let partial = stream.partial {
            partial.buffer.withUnsafeBytes { bytes in
                _ = buffer.copy(UnsafeRawBufferPointer(rebasing: bytes[partial.range]), to: 0)
            }
            if partial.owned && partial.buffer !== buffer { pool.give(partial.buffer) }
            stream.partial = nil
        }

        let forms = stored
        let places = offsets
        let sealed: [Result<[UInt8], BackupError>] = Parallel.map(count: chunks.count, threads: threads) { i in
            Result { () throws(BackupError) in
                try PayloadChunk.seal(
                    forms[i], plaintextLength: chunks[i].count, index: first + UInt64(i),
                    isFinal: lastIsFinal && i == chunks.count - 1, cipher: cipher,
                    into: buffer, at: places[i])
                return digest ? ChecksumAlgorithm.xxh3_128.digest(chunks[i]).bytes : []
            }
        }
        stream.nextChunkIndex += UInt64(chunks.count)
        for result in sealed { stream.chunkDigests.update(try result.get()) }
        stream.ciphertextLength += UInt64(end - (offsets.first ?? end))
        if lastIsFinal { buffer.zero(end..<(stripes * capacity)) }
        if stripes > 0 {
            try writeStripes(
                count: stripes, first: stream.nextStripe, from: buffer, streamLength: end,
                isFinalBatch: lastIsFinal)
            stream.nextStripe += UInt64(stripes)
        }
        if stripes * capacity < end {
            stream.partial = (buffer, (stripes * capacity)..<end, owned: stripes == 0)
        } else if stripes == 0 {
            pool.give(buffer)
        }
    }

    /// Bytes of a stream buffer: room for a partial stripe and a batch of sealed chunks, in
    /// whole stripes, so that every batch fits the same reusable buffers.
    private var streamBufferSize: Int {
        let capacity = layout.stripeDataCapacity
        let sealedChunks = Self.batchChunks(threads: threads) * SealedChunk.length(storedCount: chunkSize)
        return (capacity + sealedChunks + capacity - 1) / capacity * capacity
    }

    /// Hands the first `count` stripes of the stream in `buffer` to the container
    /// writer, which computes their parity (into a pool buffer), checksums and headers
    /// and writes copy A's records straight from the two buffers; they go back to the
    /// pool once written.
    private func writeStripes(
        count: Int, first: UInt64, from buffer: AlignedBuffer, streamLength: Int,
        isFinalBatch: Bool
    ) throws(BackupError) {
        let parityLength = layout.parityShards * layout.shardSize
        let parity = pool.take(count: streamBufferSize / layout.stripeDataCapacity * parityLength)
        let pool = self.pool
        do throws(ContainerError) {
            try container.writeCopyA(
                count, first: first, data: buffer, parity: parity, streamLength: streamLength,
                endsStream: isFinalBatch
            ) {
                pool.give(parity)
                pool.give(buffer)
            }
        } catch {
            throw BackupError(error)
        }
    }
}
