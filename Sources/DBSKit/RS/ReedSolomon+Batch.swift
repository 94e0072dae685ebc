/// Many stripes at once: `stripes.count / (n * shardLength)` stripes back to back in one
/// buffer, the work spread over `threads` threads with `DispatchQueue.concurrentPerform`
/// (whole stripes per thread, or column ranges of at least 64 KiB when there are fewer
/// stripes than threads). Results are identical to the one-stripe calls for any
/// thread count. An empty buffer is zero stripes.
extension ReedSolomon {
    /// Fills the parity shards of every stripe.
    public func encode(stripes: inout [UInt8], shardLength: Int, threads: Int) throws(ReedSolomonError) {
        let count = try checkBatch(count: stripes.count, shardLength: shardLength, threads: threads)
        StripeWork(code: self, shardLength: shardLength, stripes: count, threads: threads).encode(&stripes)
    }

    /// Rebuilds the same erased shards (at most m) in every stripe.
    public func reconstruct(stripes: inout [UInt8], shardLength: Int, erased: [Int],
                            threads: Int) throws(ReedSolomonError) {
        let count = try checkBatch(count: stripes.count, shardLength: shardLength, threads: threads)
        let pattern = try checkErasures(erased)
        guard !pattern.isEmpty else { return }
        let solution = erasureSolutions.solution(erased: pattern)
        StripeWork(code: self, shardLength: shardLength, stripes: count, threads: threads)
            .reconstruct(&stripes, solution: solution)
    }

    /// For each stripe, whether all its syndromes are zero.
    public func consistency(stripes: [UInt8], shardLength: Int, threads: Int) throws(ReedSolomonError) -> [Bool] {
        let count = try checkBatch(count: stripes.count, shardLength: shardLength, threads: threads)
        return StripeWork(code: self, shardLength: shardLength, stripes: count, threads: threads)
            .consistency(stripes)
    }
}
