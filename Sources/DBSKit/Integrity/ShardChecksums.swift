/// The per-shard checksum table of a stripe: n entries of 16 bytes, data shards then
/// parity shards, in the stripe header.
enum ShardChecksums {
    static let entrySize = Checksum128.byteCount

    /// The table for `stripe` (n shards of `shardSize` bytes, contiguous).
    static func table(of stripe: [UInt8], shardCount: Int, shardSize: Int,
                      algorithm: ChecksumAlgorithm) -> [UInt8] {
        var table = [UInt8]()
        table.reserveCapacity(shardCount * entrySize)
        for shard in 0..<shardCount {
            algorithm.digest(stripe[(shard * shardSize)..<((shard + 1) * shardSize)]).append(to: &table)
        }
        return table
    }

    /// Whether shard `shard` of `stripe` matches its entry in `table`.
    static func matches(_ stripe: [UInt8], shard: Int, shardSize: Int, table: [UInt8],
                        algorithm: ChecksumAlgorithm) -> Bool {
        let entry = shard * entrySize
        guard entry + entrySize <= table.count, (shard + 1) * shardSize <= stripe.count else { return false }
        return algorithm.digest(stripe[(shard * shardSize)..<((shard + 1) * shardSize)])
            == Checksum128(bytes: table[entry..<(entry + entrySize)])
    }

    /// The shards of `stripe` that fail their checksum.
    static func failing(_ stripe: [UInt8], shardCount: Int, shardSize: Int, table: [UInt8],
                        algorithm: ChecksumAlgorithm) -> [Int] {
        (0..<shardCount).filter { !matches(stripe, shard: $0, shardSize: shardSize, table: table, algorithm: algorithm) }
    }
}
