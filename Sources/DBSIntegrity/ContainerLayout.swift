/// Where everything sits in a backup file, computed from the stripe shape and the
/// stripe count alone (docs/FORMAT.md, "File layout"):
///
/// ```
/// [head #0][copy A: records 0..<N][head #1][copy B: records 0..<N][head #2]
/// record = stripe header (headerSize bytes) + n shards of S bytes
/// ```
///
/// Every region is a whole number of shards long (`headerSize` is the protected
/// block rounded up to a multiple of S), so with S = 4096 every shard is one disk
/// sector and one bad sector costs one shard.
package struct ContainerLayout: Sendable, Equatable, Codable {
    package let dataShards: Int
    package let parityShards: Int
    package let shardSize: Int
    package let copies: Int
    package let stripeCount: UInt64

    package init(dataShards: Int, parityShards: Int, shardSize: Int, copies: Int, stripeCount: UInt64) {
        self.dataShards = dataShards
        self.parityShards = parityShards
        self.shardSize = shardSize
        self.copies = copies
        self.stripeCount = stripeCount
    }

    package var totalShards: Int { dataShards + parityShards }
    /// Ciphertext bytes one stripe carries: k * S.
    package var stripeDataCapacity: Int { dataShards * shardSize }
    /// Bytes of one stripe's shards: n * S.
    package var stripeSize: Int { totalShards * shardSize }
    /// A stripe header or a head on disk: the protected block padded to whole shards.
    package var headerSize: Int { (ProtectedBlock.size + shardSize - 1) / shardSize * shardSize }
    package var recordSize: Int { headerSize + stripeSize }
    /// Bytes of one copy's records.
    package var copyLength: UInt64 { stripeCount * UInt64(recordSize) }

    /// Start of copy 0 (A) or 1 (B).
    package func copyOffset(_ copy: Int) -> UInt64 {
        copy == 0 ? UInt64(headerSize) : UInt64(2 * headerSize) + copyLength
    }

    package func recordOffset(copy: Int, stripe: UInt64) -> UInt64 {
        copyOffset(copy) + stripe * UInt64(recordSize)
    }

    package func shardOffset(copy: Int, stripe: UInt64, shard: Int) -> UInt64 {
        recordOffset(copy: copy, stripe: stripe) + UInt64(headerSize + shard * shardSize)
    }

    /// Start of the region of head 0, 1 or 2.
    package func headRegionOffset(_ head: Int) -> UInt64 {
        switch head {
        case 0: 0
        case 1: UInt64(headerSize) + copyLength
        default: UInt64(2 * headerSize) + UInt64(copies) * copyLength
        }
    }

    /// Where head `head`'s protected block starts. Heads 0 and 1 sit at the start of
    /// their region; head 2 at the very end of the file, so that a reader that knows
    /// nothing yet finds it as the file's last `ProtectedBlock.size` bytes.
    package func headBlockOffset(_ head: Int) -> UInt64 {
        head == 2 ? fileLength - UInt64(ProtectedBlock.size) : headRegionOffset(head)
    }

    package var fileLength: UInt64 { headRegionOffset(2) + UInt64(headerSize) }
}
