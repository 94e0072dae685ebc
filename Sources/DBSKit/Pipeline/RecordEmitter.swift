/// Turns complete stripes into on-disk records: shard checksums and header blocks
/// computed in parallel, then handed in order to the background writer. Serves the
/// writer (copy A while streaming, copy B afterwards) and the repairer (both copies).
struct RecordEmitter {
    let output: BackgroundWriter
    let descriptor: BackupDescriptor
    let threads: Int

    /// One stripe to write: its n shards (parity already computed) and header fields.
    struct Stripe: Sendable {
        var index: UInt64
        var shards: ArraySlice<UInt8>
        var dataLength: Int
        var isLast: Bool
        /// The shard checksum table, when already known (copy B reuses copy A's).
        var checksums: [UInt8]? = nil
    }

    /// Writes `stripes` as records of every copy in `copies`, at the places `layout`
    /// gives (for copy A the stripe count does not matter, so the writer can stream it).
    func emit(_ stripes: [Stripe], copies: [Int], layout: ContainerLayout) throws(BackupError) {
        let descriptor = self.descriptor
        let n = layout.totalShards, s = layout.shardSize
        let headers: [[[UInt8]]] = Parallel.map(count: stripes.count, threads: threads) { i in
            let stripe = stripes[i]
            let table = stripe.checksums
                ?? ShardChecksums.table(of: stripe.shards, shardCount: n, shardSize: s, algorithm: descriptor.checksum)
            return copies.map { copy in
                StripeHeader(copy: copy, isLast: stripe.isLast, stripeIndex: stripe.index,
                             dataLength: stripe.dataLength, descriptor: descriptor, checksums: table).encoded
            }
        }
        var writes: [BackgroundWriter.Write] = []
        writes.reserveCapacity(2 * stripes.count * copies.count)
        for (i, stripe) in stripes.enumerated() {
            for (j, copy) in copies.enumerated() {
                let offset = layout.recordOffset(copy: copy, stripe: stripe.index)
                writes.append(.init(bytes: headers[i][j][...], offset: offset))
                writes.append(.init(bytes: stripe.shards, offset: offset + UInt64(layout.headerSize)))
            }
        }
        do {
            try output.submit(writes)
        } catch {
            throw BackupError(error)
        }
    }
}
