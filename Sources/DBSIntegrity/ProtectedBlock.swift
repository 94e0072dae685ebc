import DBSReedSolomon

/// The container's metadata unit: a 4,464-byte body (a head or a stripe header)
/// with a 16-byte XXH3-128 checksum and its own Reed-Solomon parity, 8,192 bytes in all.
///
/// Why its own error correction: a stripe header holds up to 255 shard checksums
/// (about 4 KiB), so at 1e-4 flips per bit each copy takes about three flips, and a
/// checksum plus a second copy would lose it (docs/FORMAT.md §3; the Python original failed
/// exactly so). The block is laid out as a small stripe of 128 shards of 64 bytes:
/// 70 data shards (body then checksum) and 58 parity shards of the same classical
/// RS code as the data, so column j is the codeword of byte j of every shard, and an
/// errors-only decode (no checksum can say which shard is wrong) fixes up to 29 bad
/// bytes in every column: any burst up to 1,856 bytes, or scattered flips far beyond
/// 1e-4 per bit. The checksum then confirms the decode (or refuses a miscorrection).
///
/// The geometry is fixed for format version 1, independent of the stripe shape, so a
/// reader that knows nothing yet (no head) can decode any header it finds.
package enum ProtectedBlock {
    package static let size = 8192
    package static let columns = 64
    package static let dataShards = 70
    package static let parityShards = 58
    /// Bytes of body the block carries.
    package static let bodySize = dataShards * columns - checksumSize
    static let checksumSize = 16

    /// The one code every metadata block uses. The shape is a valid constant
    /// (70 + 58 <= 255, 64-byte shards), so construction cannot fail.
    static let code: ReedSolomon = {
        do {
            return try ReedSolomon(dataShards: dataShards, parityShards: parityShards)
        } catch {
            fatalError("ProtectedBlock: the constant metadata code shape was refused: \(error)")
        }
    }()

    /// The 8,192 on-disk bytes for `body` (at most `bodySize` bytes; zero-padded).
    package static func encode(body: [UInt8]) -> [UInt8] {
        precondition(body.count <= bodySize, "metadata body of \(body.count) bytes exceeds \(bodySize)")
        var block = body
        block.reserveCapacity(size)
        block.append(contentsOf: repeatElement(0, count: bodySize - body.count))
        ChecksumAlgorithm.xxh3_128.digest(block[0..<bodySize]).append(to: &block)
        block.append(contentsOf: repeatElement(0, count: size - block.count))
        do {
            try code.encode(stripe: &block, shardLength: columns)
        } catch {
            fatalError("ProtectedBlock: encoding a constant-shape block failed: \(error)")
        }
        return block
    }

    /// The result of decoding a block read from disk.
    package struct Decoded {
        /// The verified body (`bodySize` bytes).
        package var body: [UInt8]
        /// Bytes the error correction changed (0 for an intact block).
        package var correctedBytes: Int
    }

    /// The verified body of `block`, after error correction if its checksum failed;
    /// nil when it cannot be recovered (or `block` is not `size` bytes).
    package static func decode(_ block: [UInt8]) -> Decoded? {
        guard block.count == size else { return nil }
        if checksumMatches(block) { return Decoded(body: Array(block[0..<bodySize]), correctedBytes: 0) }
        var repaired = block
        let report: ColumnCorrectionReport
        do {
            report = try code.correctColumns(stripe: &repaired, shardLength: columns, erasures: [:], trusted: [])
        } catch {
            return nil
        }
        guard report.failedColumns.isEmpty, checksumMatches(repaired) else { return nil }
        return Decoded(body: Array(repaired[0..<bodySize]), correctedBytes: report.corrections.count)
    }

    /// The body of `block` if its checksum matches, without any error correction: what
    /// the layout scan tries at an arbitrary offset.
    static func verifiedBody(_ block: ArraySlice<UInt8>) -> [UInt8]? {
        guard block.count == size else { return nil }
        let start = block.startIndex
        guard
            ChecksumAlgorithm.xxh3_128.digest(block[start..<(start + bodySize)])
                == Checksum128(bytes: block[(start + bodySize)..<(start + bodySize + checksumSize)])
        else { return nil }
        return Array(block[start..<(start + bodySize)])
    }

    private static func checksumMatches(_ block: [UInt8]) -> Bool {
        ChecksumAlgorithm.xxh3_128.digest(block[0..<bodySize])
            == Checksum128(bytes: block[bodySize..<(bodySize + checksumSize)])
    }
}
