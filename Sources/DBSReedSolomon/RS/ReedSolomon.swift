/// A systematic classical Reed-Solomon code over GF(2^8), shard-interleaved.
///
/// ## Layout
///
/// A *stripe* is n = k + m shards of S bytes in one contiguous buffer of n·S bytes:
/// shard i occupies `[i*S, (i+1)*S)`, data shards `0..<k`, then parity shards `k..<n`.
/// Codeword j is byte j of every shard, so a burst of damage inside one shard costs
/// each codeword one symbol.
///
/// ## The code (the file format depends on every line of this)
///
/// - Field GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), α = 2.
/// - Generator g(x) = (x - α^0)(x - α^1) ... (x - α^(m-1)), i.e. first root α^0.
/// - Shard s holds the coefficient of x^(n-1-s) in the codeword polynomial:
///   data shard i (0 ≤ i < k) ↔ x^(n-1-i), parity shard r (shard k + r) ↔ x^(m-1-r).
///   Read in shard order, a column is its codeword polynomial, highest degree first.
/// - With d(x) = Σ_i data[i] x^(k-1-i), the codeword is
///   c(x) = x^m d(x) + (x^m d(x) mod g(x)): the textbook systematic encoder.
/// - Syndrome j (0 ≤ j < m) of a column is c(α^j); a column is a codeword exactly when
///   all m are zero. The locator of shard s is α^(n-1-s).
///
/// `Tests/Reference/rs_reference.py` is an independent implementation of exactly this
/// definition (polynomial long division), used for known-answer tests.
///
/// Every bulk step is one prepared matrix applied by an ``RSKernel``: encoding the m x k
/// parity matrix, the consistency check the m x n syndrome matrix, erasure decoding a
/// cached f x (n - f) solution matrix. Only per-column errors-and-erasures decoding
/// (``correctColumns(stripe:shardLength:erasures:trusted:)``) runs scalar code, and only
/// on columns whose syndromes are not zero.
///
/// A value is cheap to share across threads: its matrices are built and prepared once
/// in `init`, the erasure solutions are cached behind a lock.
public struct ReedSolomon: Sendable {
    public let dataShards: Int
    public let parityShards: Int
    public var totalShards: Int { dataShards + parityShards }
    /// The backend whose kernel does the bulk work.
    public var backend: RSBackendKind { kernel.kind }

    let matrices: ReedSolomonMatrices
    let kernel: any RSKernel
    let encoder: any PreparedGFMatrix
    let syndromeCheck: any PreparedGFMatrix
    let erasureSolutions: ErasureSolutions

    /// - Parameters:
    ///   - dataShards: k ≥ 1.
    ///   - parityShards: m ≥ 1, with k + m ≤ 255.
    ///   - backend: the kernel to use; nil picks `DBS_RS_BACKEND`, else the fastest available.
    public init(dataShards: Int, parityShards: Int, backend: RSBackendKind? = nil) throws(ReedSolomonError) {
        guard dataShards >= 1, parityShards >= 1, dataShards <= 255 - parityShards else {
            throw .invalidShape(dataShards: dataShards, parityShards: parityShards)
        }
        let kernel = try KernelRegistry.kernel(for: backend)
        let matrices = ReedSolomonMatrices(dataShards: dataShards, parityShards: parityShards)
        self.dataShards = dataShards
        self.parityShards = parityShards
        self.matrices = matrices
        self.kernel = kernel
        self.encoder = kernel.prepare(matrices.parity)
        self.syndromeCheck = kernel.prepare(matrices.syndrome)
        self.erasureSolutions = ErasureSolutions(matrices: matrices, kernel: kernel)
    }

    /// Bytes in one stripe of this shape.
    package func stripeLength(shardLength: Int) -> Int { totalShards * shardLength }

    // MARK: One stripe

    /// Computes the m parity shards from the k data shards, in place.
    public func encode(stripe: inout [UInt8], shardLength: Int) throws(ReedSolomonError) {
        try checkStripe(count: stripe.count, shardLength: shardLength)
        StripeWork(code: self, shardLength: shardLength, stripes: 1, threads: 1).encode(&stripe)
    }

    /// Whether every column of the stripe is a codeword (all syndromes zero).
    package func isConsistent(stripe: [UInt8], shardLength: Int) throws(ReedSolomonError) -> Bool {
        try checkStripe(count: stripe.count, shardLength: shardLength)
        return StripeWork(code: self, shardLength: shardLength, stripes: 1, threads: 1).consistency(stripe)[0]
    }

    /// Rebuilds whole erased shards (data or parity, at most m) from the others, in place.
    /// The erased shards' current bytes are ignored; all other shards must be correct.
    public func reconstruct(stripe: inout [UInt8], shardLength: Int, erased: [Int]) throws(ReedSolomonError) {
        try checkStripe(count: stripe.count, shardLength: shardLength)
        let pattern = try checkErasures(erased)
        guard !pattern.isEmpty else { return }
        let solution = erasureSolutions.solution(erased: pattern)
        StripeWork(code: self, shardLength: shardLength, stripes: 1, threads: 1)
            .reconstruct(&stripe, solution: solution)
    }

    // MARK: Validation

    func checkShardLength(_ shardLength: Int) throws(ReedSolomonError) {
        guard shardLength >= 1 else { throw .invalidShardLength(shardLength) }
    }

    func checkStripe(count: Int, shardLength: Int) throws(ReedSolomonError) {
        try checkShardLength(shardLength)
        let (expected, overflow) = totalShards.multipliedReportingOverflow(by: shardLength)
        guard !overflow else { throw .invalidShardLength(shardLength) }
        guard count == expected else { throw .bufferSizeMismatch(expected: expected, actual: count) }
    }

    /// Valid batch: a whole number (possibly zero) of stripes. Returns the stripe count.
    func checkBatch(count: Int, shardLength: Int, threads: Int) throws(ReedSolomonError) -> Int {
        try checkShardLength(shardLength)
        guard threads >= 1 else { throw .invalidThreadCount(threads) }
        let (stripeLength, overflow) = totalShards.multipliedReportingOverflow(by: shardLength)
        guard !overflow else { throw .invalidShardLength(shardLength) }
        guard count % stripeLength == 0 else {
            // The nearest whole number of stripes above what was given.
            throw .bufferSizeMismatch(expected: (count / stripeLength + 1) * stripeLength, actual: count)
        }
        return count / stripeLength
    }

    func checkShardIndex(_ index: Int) throws(ReedSolomonError) {
        guard (0..<totalShards).contains(index) else {
            throw .invalidShardIndex(index, totalShards: totalShards)
        }
    }

    /// Valid indices, no duplicates; returned sorted.
    func checkDistinctShards(_ shards: [Int]) throws(ReedSolomonError) -> [Int] {
        var seen = Set<Int>()
        for index in shards {
            try checkShardIndex(index)
            guard seen.insert(index).inserted else { throw .duplicateShardIndex(index) }
        }
        return shards.sorted()
    }

    /// A whole-shard erasure pattern: valid, distinct, at most m. Returned sorted.
    func checkErasures(_ erased: [Int]) throws(ReedSolomonError) -> [Int] {
        let pattern = try checkDistinctShards(erased)
        guard pattern.count <= parityShards else {
            throw .tooManyErasures(erased: pattern.count, parityShards: parityShards)
        }
        return pattern
    }
}
