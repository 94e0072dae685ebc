/// The per-shard checksum table of a stripe: n entries of 16 bytes, data shards then
/// parity shards, in the stripe header.
enum ShardChecksums {
    static let entrySize = Checksum128.byteCount

    /// The table for `stripe` (n shards of `shardSize` bytes, contiguous).
    static func table(
        of stripe: some Collection<UInt8> & ContiguousStorage, shardCount: Int, shardSize: Int,
        algorithm: ChecksumAlgorithm
    ) -> [UInt8] {
        var table = [UInt8]()
        table.reserveCapacity(shardCount * entrySize)
        stripe.withBytes { raw in
            for shard in 0..<shardCount {
                algorithm.digest(UnsafeRawBufferPointer(rebasing: raw[(shard * shardSize)..<((shard + 1) * shardSize)]))
                    .append(to: &table)
            }
        }
        return table
    }

    /// Whether shard `shard` of `stripe` matches its entry in `table`.
    static func matches(
        _ stripe: some Collection<UInt8> & ContiguousStorage, shard: Int, shardSize: Int,
        table: [UInt8], algorithm: ChecksumAlgorithm
    ) -> Bool {
        let entry = shard * entrySize
        guard entry + entrySize <= table.count, (shard + 1) * shardSize <= stripe.count else { return false }
        let expected = Checksum128(bytes: table[entry..<(entry + entrySize)])
        return stripe.withBytes { raw in
            algorithm.digest(UnsafeRawBufferPointer(rebasing: raw[(shard * shardSize)..<((shard + 1) * shardSize)]))
        } == expected
    }

    /// The shards of `stripe` (all, or those in `among`) that fail their checksum.
    static func failing(
        _ stripe: some Collection<UInt8> & ContiguousStorage, shardCount: Int, shardSize: Int,
        table: [UInt8], algorithm: ChecksumAlgorithm, among: Set<Int>? = nil
    ) -> [Int] {
        (0..<shardCount).filter { among?.contains($0) ?? true }.filter {
            !matches(stripe, shard: $0, shardSize: shardSize, table: table, algorithm: algorithm)
        }
    }
}

/// Byte buffers whose storage is contiguous: arrays and array slices, lent as raw
/// bytes starting at the buffer's first element (so slice indices never leak in).
protocol ContiguousStorage {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousStorage where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}

extension ArraySlice: ContiguousStorage where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}

extension UnsafeRawBufferPointer: ContiguousStorage {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
