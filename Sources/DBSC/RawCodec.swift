// The raw Reed-Solomon codec: the backup format's code on the caller's shards.
//
// The engine's ReedSolomon works on one contiguous stripe of n * S bytes, while C
// callers hold n separate shard buffers. The shards are copied into a stripe and
// back, a column block at a time: codewords are columns, so blocks are independent,
// and memory stays at about `blockBytes` whatever the shard length. The copies cost
// far less than the finite-field work they feed.

import DBSKit

/// Shards of a stripe as the C caller holds them, checked, walked in column blocks.
private struct ShardSet {
    let code: ReedSolomon
    let shardLength: Int
    /// Bytes per shard per block: the whole stripe buffer is about 4 MiB.
    let blockLength: Int

    static let blockBytes = 4 << 20

    init(k: Int32, m: Int32, shardLength: UInt) throws(UsageError) {
        let shardLength = try cSize(shardLength, "shard_len")
        guard k >= 1, m >= 1, Int(k) + Int(m) <= 255 else {
            throw UsageError("invalid Reed-Solomon shape: k = \(k), m = \(m) (need k >= 1, m >= 1, k + m <= 255)")
        }
        guard shardLength >= 1 else { throw UsageError("shard_len \(shardLength) must be at least 1") }
        do {
            code = try ReedSolomon(dataShards: Int(k), parityShards: Int(m))
        } catch {
            throw UsageError(error.description)
        }
        self.shardLength = shardLength
        let perShard = max(64, Self.blockBytes / code.totalShards / 64 * 64)
        blockLength = min(shardLength, perShard)
    }

    /// Calls `body` with each block's stripe buffer, its column range, and its
    /// width; the stripe's content is the caller's to fill and read.
    func forEachBlock(_ body: (inout [UInt8], _ columns: Range<Int>) throws -> Void) rethrows {
        var stripe = [UInt8](repeating: 0, count: code.totalShards * blockLength)
        var column = 0
        while column < shardLength {
            let width = min(blockLength, shardLength - column)
            if stripe.count != code.totalShards * width {
                stripe = [UInt8](repeating: 0, count: code.totalShards * width)
            }
            try body(&stripe, column..<(column + width))
            column += width
        }
    }
}

/// `count` non-NULL pointers from a C array, each checked.
private func pointers<P>(_ array: UnsafePointer<P?>?, count: Int, _ name: String) throws(UsageError) -> [P] {
    guard let array else { throw UsageError("\(name) is NULL") }
    var result: [P] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        guard let pointer = array[index] else { throw UsageError("\(name)[\(index)] is NULL") }
        result.append(pointer)
    }
    return result
}

/// Copies `columns` of shard `index` between a caller's buffer and a stripe block.
private func copyIn(_ source: UnsafePointer<UInt8>, _ columns: Range<Int>, to stripe: inout [UInt8], shard index: Int) {
    let width = columns.count
    stripe.withUnsafeMutableBytes { block in
        (block.baseAddress! + index * width).copyMemory(from: source + columns.lowerBound, byteCount: width)
    }
}

private func copyOut(_ stripe: [UInt8], shard index: Int, _ columns: Range<Int>, to target: UnsafeMutablePointer<UInt8>)
{
    let width = columns.count
    stripe.withUnsafeBytes { block in
        (target + columns.lowerBound).update(
            from: (block.baseAddress! + index * width).assumingMemoryBound(to: UInt8.self),
            count: width)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_rs_encode")
#endif
public func dbs_rs_encode(
    _ k: Int32, _ m: Int32, _ shardLength: UInt,
    _ data: UnsafePointer<UnsafePointer<UInt8>?>?,
    _ parity: UnsafePointer<UnsafeMutablePointer<UInt8>?>?
) -> Int32 {
    cCall {
        let shards = try ShardSet(k: k, m: m, shardLength: shardLength)
        let dataShards = try pointers(data, count: Int(k), "data")
        let parityShards = try pointers(parity, count: Int(m), "parity")
        try shards.forEachBlock { stripe, columns in
            for (index, shard) in dataShards.enumerated() { copyIn(shard, columns, to: &stripe, shard: index) }
            try shards.code.encode(stripe: &stripe, shardLength: columns.count)
            for (index, shard) in parityShards.enumerated() {
                copyOut(stripe, shard: Int(k) + index, columns, to: shard)
            }
        }
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_rs_reconstruct")
#endif
public func dbs_rs_reconstruct(
    _ k: Int32, _ m: Int32, _ shardLength: UInt,
    _ shards: UnsafePointer<UnsafeMutablePointer<UInt8>?>?,
    _ erased: UnsafePointer<Int32>?, _ erasedCountArgument: UInt
) -> Int32 {
    cCall {
        let set = try ShardSet(k: k, m: m, shardLength: shardLength)
        let n = set.code.totalShards
        let erasedCount = try cSize(erasedCountArgument, "erased_count")
        guard erasedCount <= Int(m) else {
            throw UsageError("erased_count \(erasedCount) is outside 0...\(m) (at most m shards can be rebuilt)")
        }
        guard erasedCount > 0 else { return }
        guard let erased else { throw UsageError("erased is NULL with erased_count \(erasedCount)") }
        var erasures: [Int] = []
        for index in 0..<erasedCount {
            let shard = Int(erased[index])
            guard (0..<n).contains(shard) else { throw UsageError("erased[\(index)] = \(shard) is outside 0..<\(n)") }
            guard !erasures.contains(shard) else { throw UsageError("erased[\(index)] = \(shard) is listed twice") }
            erasures.append(shard)
        }
        let buffers = try pointers(shards, count: n, "shards")
        try set.forEachBlock { stripe, columns in
            for (index, shard) in buffers.enumerated() where !erasures.contains(index) {
                copyIn(shard, columns, to: &stripe, shard: index)
            }
            try set.code.reconstruct(stripe: &stripe, shardLength: columns.count, erased: erasures)
            for index in erasures { copyOut(stripe, shard: index, columns, to: buffers[index]) }
        }
    }
}
