import Dispatch

/// The pointer-level work behind ``ReedSolomon``'s buffer APIs: cuts a run of stripes
/// into pieces, spreads them over threads, and hands each piece's shard pointers to the
/// kernel. Callers have validated every size and index; nothing here can go out of
/// bounds for a buffer of exactly `stripes * n * shardLength` bytes.
///
/// A piece is a whole stripe, or, when there are fewer stripes than threads, a column
/// range of one stripe (all n shards, columns `[a, b)`): codewords are independent, so
/// any column range is a valid unit of work. Pieces are kept at
/// ``minimumPieceBytes`` or more so the per-iteration cost of `concurrentPerform`
/// stays negligible.
///
/// Concurrency: each worker touches only the bytes of its own pieces, which are
/// disjoint, so the buffer's base address is shared as `nonisolated(unsafe)`.
struct StripeWork: Sendable {
    /// Smallest piece worth a thread: n shards x columns ≥ 64 KiB.
    static let minimumPieceBytes = 64 * 1024

    let code: ReedSolomon
    let shardLength: Int
    let stripes: Int
    let piecesPerStripe: Int
    let workers: Int

    init(code: ReedSolomon, shardLength: Int, stripes: Int, threads: Int) {
        self.code = code
        self.shardLength = shardLength
        self.stripes = stripes
        if stripes == 0 || stripes >= threads {
            piecesPerStripe = 1
        } else {
            let wanted = (threads + stripes - 1) / stripes
            let affordable = max(1, code.totalShards * shardLength / Self.minimumPieceBytes)
            piecesPerStripe = min(wanted, affordable, shardLength)
        }
        workers = max(1, min(threads, stripes * piecesPerStripe))
    }

    var pieces: Int { stripes * piecesPerStripe }

    /// The stripe and column range of piece `index`.
    func piece(_ index: Int) -> (stripe: Int, columns: Range<Int>) {
        let part = index % piecesPerStripe
        let lower = shardLength * part / piecesPerStripe
        let upper = shardLength * (part + 1) / piecesPerStripe
        return (index / piecesPerStripe, lower..<upper)
    }

    /// Longest column range of any piece.
    var longestPiece: Int { (shardLength + piecesPerStripe - 1) / piecesPerStripe }

    /// Byte offset of a shard's first byte in the piece's column range.
    func offset(stripe: Int, shard: Int, columns: Range<Int>) -> Int {
        (stripe * code.totalShards + shard) * shardLength + columns.lowerBound
    }

    /// Runs `body(piece, scratch)` for every piece, on `workers` threads. `scratch` is a
    /// per-worker buffer of `scratchPerColumn * longestPiece` bytes.
    func forEachPiece(
        scratchPerColumn: Int = 0,
        _ body: @Sendable (_ piece: Int, _ scratch: UnsafeMutablePointer<UInt8>) -> Void
    ) {
        let scratchBytes = max(1, scratchPerColumn * longestPiece)
        let pieces = pieces
        let workers = workers
        @Sendable func run(worker: Int) {
            let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchBytes)
            defer { scratch.deallocate() }
            for index in (pieces * worker / workers)..<(pieces * (worker + 1) / workers) {
                body(index, scratch)
            }
        }
        if workers == 1 {
            run(worker: 0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: run)
        }
    }

    // MARK: Operations

    /// Fills the parity shards of every stripe.
    func encode(_ buffer: inout [UInt8]) {
        buffer.withUnsafeMutableBytes { bytes in encode(base: bytes.baseAddress) }
    }

    /// Fills the parity shards of every stripe of the buffer starting at `base`
    /// (`stripes * n * shardLength` bytes, validated by the caller).
    func encode(base: UnsafeMutableRawPointer?) {
        let k = code.dataShards
        let n = code.totalShards
        guard let address = base?.assumingMemoryBound(to: UInt8.self) else { return }
        nonisolated(unsafe) let base = address
        forEachPiece { index, _ in
            let (stripe, columns) = piece(index)
            let inputs = (0..<k).map { UnsafePointer(base + offset(stripe: stripe, shard: $0, columns: columns)) }
            let outputs = (k..<n).map { base + offset(stripe: stripe, shard: $0, columns: columns) }
            Self.apply(code.encoder, length: columns.count, inputs: inputs, outputs: outputs)
        }
    }

    /// Rebuilds the solution's erased shards of every stripe from its survivors.
    func reconstruct(_ buffer: inout [UInt8], solution: ErasureSolutions.Solution) {
        buffer.withUnsafeMutableBufferPointer { bytes in
            guard let address = bytes.baseAddress else { return }
            nonisolated(unsafe) let base = address
            forEachPiece { index, _ in
                let (stripe, columns) = piece(index)
                let inputs = solution.survivors.map {
                    UnsafePointer(base + offset(stripe: stripe, shard: $0, columns: columns))
                }
                let outputs = solution.erased.map { base + offset(stripe: stripe, shard: $0, columns: columns) }
                Self.apply(solution.matrix, length: columns.count, inputs: inputs, outputs: outputs)
            }
        }
    }

    /// Whether each stripe has all-zero syndromes.
    func consistency(_ buffer: [UInt8]) -> [Bool] {
        let m = code.parityShards
        var pieceIsClean = [Bool](repeating: true, count: pieces)
        buffer.withUnsafeBufferPointer { bytes in
            pieceIsClean.withUnsafeMutableBufferPointer { results in
                guard let address = bytes.baseAddress, let resultAddress = results.baseAddress else { return }
                nonisolated(unsafe) let base = address
                nonisolated(unsafe) let clean = resultAddress
                forEachPiece(scratchPerColumn: m) { index, scratch in
                    let (stripe, columns) = piece(index)
                    syndromes(base: base, stripe: stripe, columns: columns, into: scratch)
                    var any: UInt8 = 0
                    for i in 0..<(m * columns.count) { any |= scratch[i] }
                    clean[index] = any == 0
                }
            }
        }
        return (0..<stripes).map { stripe in
            pieceIsClean[(stripe * piecesPerStripe)..<((stripe + 1) * piecesPerStripe)].allSatisfy { $0 }
        }
    }

    /// Syndromes of one piece: row j (j < m) of `columns.count` bytes at
    /// `output + j * columns.count`.
    func syndromes(
        base: UnsafePointer<UInt8>, stripe: Int, columns: Range<Int>,
        into output: UnsafeMutablePointer<UInt8>
    ) {
        let inputs = (0..<code.totalShards).map { base + offset(stripe: stripe, shard: $0, columns: columns) }
        let outputs = (0..<code.parityShards).map { output + $0 * columns.count }
        Self.apply(code.syndromeCheck, length: columns.count, inputs: inputs, outputs: outputs)
    }

    static func apply(
        _ matrix: any PreparedGFMatrix, length: Int,
        inputs: [UnsafePointer<UInt8>], outputs: [UnsafeMutablePointer<UInt8>]
    ) {
        inputs.withUnsafeBufferPointer { inputs in
            outputs.withUnsafeBufferPointer { outputs in
                matrix.apply(length: length, inputs: inputs, outputs: outputs)
            }
        }
    }
}
