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
    public func reconstruct(
        stripes: inout [UInt8], shardLength: Int, erased: [Int],
        threads: Int
    ) throws(ReedSolomonError) {
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

/// The same operations over ``AlignedBuffer``s: the pipeline's reusable batch buffers,
/// placed where ISA-L runs fastest (16 bytes past a page boundary, see
/// ``AlignedBuffer``). Same results as the `[UInt8]` APIs.
extension ReedSolomon {
    /// Fills the parity shards of every stripe (stripes back to back from byte 0; the
    /// buffer holds a whole number of stripes).
    package func encode(stripes: AlignedBuffer, shardLength: Int, threads: Int) throws(ReedSolomonError) {
        let count = try checkBatch(count: stripes.count, shardLength: shardLength, threads: threads)
        let work = StripeWork(code: self, shardLength: shardLength, stripes: count, threads: threads)
        stripes.withUnsafeMutableBytes { bytes in work.encode(base: bytes.baseAddress) }
    }

    /// Parity of one stripe whose k data shards lie back to back in `data` from
    /// `dataOffset` and whose m parity shards are written back to back into `parity`
    /// from `parityOffset`: for a pipeline that keeps the ciphertext stream contiguous
    /// (frames sealed straight into it) and the parity beside it. The two ranges must
    /// not overlap when both buffers are the same object.
    package func encode(
        data: AlignedBuffer, at dataOffset: Int, parity: AlignedBuffer, at parityOffset: Int,
        shardLength: Int
    ) throws(ReedSolomonError) {
        try checkShardLength(shardLength)
        let (dataLength, overflow) = dataShards.multipliedReportingOverflow(by: shardLength)
        guard !overflow else { throw .invalidShardLength(shardLength) }
        let parityLength = parityShards * shardLength
        guard dataOffset >= 0, dataOffset <= data.count - dataLength else {
            throw .bufferSizeMismatch(expected: max(0, dataOffset) + dataLength, actual: data.count)
        }
        guard parityOffset >= 0, parityOffset <= parity.count - parityLength else {
            throw .bufferSizeMismatch(expected: max(0, parityOffset) + parityLength, actual: parity.count)
        }
        if data === parity {
            let a = dataOffset..<(dataOffset + dataLength)
            let b = parityOffset..<(parityOffset + parityLength)
            guard !a.overlaps(b) else {
                throw .bufferSizeMismatch(expected: dataOffset + dataLength + parityLength, actual: data.count)
            }
        }
        let encoder = self.encoder
        let k = dataShards
        let m = parityShards
        data.withUnsafeBytes { input in
            parity.withUnsafeMutableBytes { output in
                let source = input.baseAddress!.assumingMemoryBound(to: UInt8.self) + dataOffset
                let target = output.baseAddress!.assumingMemoryBound(to: UInt8.self) + parityOffset
                let inputs = (0..<k).map { UnsafePointer(source + $0 * shardLength) }
                let outputs = (0..<m).map { target + $0 * shardLength }
                StripeWork.apply(encoder, length: shardLength, inputs: inputs, outputs: outputs)
            }
        }
    }
}
