import DBSCompression
import DBSIO
import DBSIntegrity
import DBSSecurity
import DBSSystem

/// The restore pipeline: batches of stripes recovered in parallel (checksums, repair),
/// their verified ciphertext cut into sealed chunks, the chunks opened and
/// decompressed in parallel, the plaintext handed out in order. At most one batch of
/// stripes and its chunks are in memory, and a pass opens at most `chunksPerPass`
/// chunks, so the plaintext held is bounded by bytes, not by the compression ratio
/// (a round of highly compressible stripes holds many times its size in plaintext).
///
/// Serves `BackupReader` and the writer's verify-after-write (which also checks copy B).
final class RestoreEngine {
    private let recovery: StripeRecovery
    private let located: LocatedContainer
    private let cipher: ChunkCipher
    private let decompressor: ChunkCompressor
    private let threads: Int
    private let examineBothCopies: Bool
    private let digestChunks: Bool
    private let onStripes: StripeTap?
    /// `BackupSummary.plaintextDigest` so far, when `digestChunks`.
    private var chunkDigests = SHA256Hasher()

    private var nextStripe: UInt64 = 0
    /// Verified ciphertext not yet cut into chunks.
    private var stream: [UInt8] = []
    private var consumed: UInt64 = 0
    private var nextChunk: UInt64 = 0
    private var finished = false
    private var pending: [[UInt8]] = []
    private var pendingIndex = 0
    /// The first failure; every later call throws it again, so a caller that keeps
    /// reading after an error never gets bytes from beyond a gap.
    private var failure: BackupError?

    /// Everything repaired so far.
    private(set) var report: RepairReport

    /// Sees each batch of recovered stripes, in order, before their chunks are opened
    /// (verify-after-write writes copy B from them); a throw stops the engine.
    typealias StripeTap = ([StripeRecovery.Recovered]) throws(BackupError) -> Void

    init(
        file: PositionedFile, located: LocatedContainer, cipher: ChunkCipher, threads: Int,
        examineBothCopies: Bool = false, digestChunks: Bool = false, onStripes: StripeTap? = nil
    ) throws(BackupError) {
        do {
            recovery = try StripeRecovery(
                file: file, fileLength: located.fileLength, descriptor: located.descriptor,
                layout: located.layout)
            decompressor = try ChunkCompressor()
        } catch {
            throw .internalFailure(cause: error)
        }
        self.located = located
        self.cipher = cipher
        self.threads = BackupOptions.clampThreads(threads)
        self.examineBothCopies = examineBothCopies
        self.digestChunks = digestChunks
        self.onStripes = onStripes
        report = RepairReport()
        report.headsDamaged = located.damagedHeads
        report.layoutFromScan = located.fromScan
    }

    /// `BackupSummary.plaintextDigest` of everything read so far (with `digestChunks`).
    func plaintextDigest() -> [UInt8] { chunkDigests.finalize() }

    /// The next piece of verified plaintext (possibly empty), or nil at the end.
    func next() throws(BackupError) -> [UInt8]? {
        if let failure { throw failure }
        while pendingIndex == pending.count {
            if finished { return nil }
            pending = []
            pendingIndex = 0
            do {
                try advance()
            } catch {
                failure = error
                pending = []
                throw error
            }
        }
        defer { pendingIndex += 1 }
        let piece = pending[pendingIndex]
        pending[pendingIndex] = []
        return piece
    }

    /// A stripe beyond repair found in a round whose earlier stripes are delivered
    /// first: the failure of the call after them.
    private var lostStripe: BackupError?

    /// Stripes recovered in the last parallel pass, for the next round.
    private var prefetched: [StripeRecovery.Recovered] = []

    /// Stripes per round: a few per thread, so a pass has enough items to balance
    /// (a text chunk takes several times as long to open as a random one).
    private var stripesPerRound: Int { Parallel.roundItems(threads: threads) }

    /// Complete sealed chunks are still waiting in `stream` after the last pass (it opened
    /// `chunksPerPass`): the next pass opens them before any new stripe comes in.
    private var backlog = false

    /// Plaintext one pass may produce, in bytes (`chunksPerPass`).
    static let plaintextPerPass = 16 << 20

    /// Chunks one pass opens at most: `plaintextPerPass` of full chunks, but never
    /// fewer than a round's items (so the threads still balance).
    private var chunksPerPass: Int {
        max(Parallel.roundItems(threads: threads), Self.plaintextPerPass / max(1, located.descriptor.chunkSize))
    }

    /// One round: take the stripes recovered in the last pass (recovering them now in
    /// the first round), cut their ciphertext into sealed chunks, then one parallel pass opens
    /// those chunks and recovers the next round's stripes, so neither waits for the
    /// other at a barrier of its own.
    private func advance() throws(BackupError) {
        let layout = located.layout
        let recovery = self.recovery
        let both = examineBothCopies
        if !backlog {
            if let lostStripe { throw lostStripe }
            try takeStripes()
        }

        // Cut complete sealed chunks; the last stripe's trailing bytes after the final sealed chunk
        // are padding.
        var sealedChunks: [SealedChunk.Location] = []
        var position = 0
        let limit = chunksPerPass
        let chunkSize = located.descriptor.chunkSize
        while !finished, sealedChunks.count < limit {
            let cut: SealedChunk.Location?
            do { cut = try SealedChunk.cut(stream, at: position, index: nextChunk, chunkSize: chunkSize) } catch {
                throw BackupError(error)
            }
            guard let sealedChunk = cut, sealedChunk.end <= stream.count else { break }
            sealedChunks.append(sealedChunk)
            nextChunk += 1
            position = sealedChunk.end
            if sealedChunk.isFinal { finished = true }
        }
        backlog = !finished && sealedChunks.count == limit
        consumed += UInt64(position)
        // The workers open the sealed chunks where they lie in this snapshot of the stream
        // (shared storage, no copy); the stream itself moves on.
        let source = stream
        stream.removeFirst(position)
        if finished {
            if let why = SealedChunkWalker.endProblem(finalEnd: consumed, in: layout) { throw .corruptedStream(why) }
            report.addDamagedHeads(located.headsDisagreeing(finalEnd: consumed, chunks: nextChunk))
            stream = []
        }

        // The pass: this round's chunks first (the caller waits for them), then the
        // next round's stripes (none once the final chunk is found, nor while sealed chunks
        // wait in the stream).
        let batch = sealedChunks
        let (nextFirst, nextCount) = finished || lostStripe != nil || backlog ? (nextStripe, 0) : claimNextRound()
        let cipher = self.cipher
        let decompressor = self.decompressor
        let digest = digestChunks
        let results: [RoundItem] = Parallel.map(count: batch.count + nextCount, threads: threads) { i in
            guard i < batch.count else {
                return .stripe(recovery.recover(nextFirst + UInt64(i - batch.count), examineBothCopies: both))
            }
            return .chunk(
                Result { () throws(BackupError) in
                    let plaintext = try PayloadChunk.open(
                        source[batch[i].sealed], index: batch[i].index,
                        isFinal: batch[i].isFinal, cipher: cipher,
                        decompressor: decompressor, chunkSize: chunkSize)
                    return (plaintext, digest ? ChecksumAlgorithm.xxh3_128.digest(plaintext).bytes : [])
                })
        }
        for item in results {
            switch item {
            case .chunk(let result):
                let (plaintext, chunkDigest) = try result.get()
                if digestChunks { chunkDigests.update(chunkDigest) }
                pending.append(plaintext)
            case .stripe(let stripe):
                prefetched.append(stripe)
            }
        }
    }

    /// Takes the stripes recovered in the last pass (recovering them now in the first
    /// round) into the stream: their records into the report, a stripe beyond repair
    /// ending them.
    private func takeStripes() throws(BackupError) {
        let recovery = self.recovery
        let both = examineBothCopies
        if prefetched.isEmpty {
            let (first, count) = claimNextRound()
            prefetched = Parallel.map(count: count, threads: threads) { i in
                recovery.recover(first + UInt64(i), examineBothCopies: both)
            }
        }
        guard !prefetched.isEmpty else {
            throw .corruptedStream("the ciphertext ends after chunk \(nextChunk) without a final chunk")
        }
        var stripes = prefetched
        prefetched = []
        for (index, stripe) in stripes.enumerated() {
            report.add(stripe.repair)
            guard stripe.usable else {
                // The stripes before it are delivered first (a salvaging restore keeps
                // the entries they complete); the next call fails.
                if index == 0 { throw .damagedBeyondRepair(report) }
                lostStripe = .damagedBeyondRepair(report)
                stripes.removeSubrange(index...)
                break
            }
        }
        try onStripes?(stripes)
        for stripe in stripes { stream.append(contentsOf: stripe.data) }
    }

    /// The stripes of the next round (none past the last stripe), counted as read.
    private func claimNextRound() -> (first: UInt64, count: Int) {
        let first = nextStripe
        let count = Int(min(UInt64(stripesPerRound), located.layout.stripeCount - first))
        nextStripe += UInt64(count)
        return (first, count)
    }

    /// What one item of a round's parallel pass yields.
    private enum RoundItem: Sendable {
        case chunk(Result<(plaintext: [UInt8], digest: [UInt8]), BackupError>)
        case stripe(StripeRecovery.Recovered)
    }
}
