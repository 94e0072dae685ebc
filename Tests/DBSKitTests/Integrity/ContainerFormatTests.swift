import DBSTestSupport
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// The metadata encodings of docs/FORMAT.md: exact sizes, round trips, the protected
/// block's own error correction, and bounds on hostile fields.
@Suite("Container format: metadata blocks")
struct ContainerFormatTests {
    static let descriptor = BackupDescriptor(
        backupID: Array(1...16), created: 1_700_000_000, salt: Array(repeating: 7, count: 16),
        kdf: KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: 4), wrappedKey: Array(repeating: 9, count: 60),
        chunkSize: 1 << 20, compression: .zstd(level: -5), checksum: .blake2b_128, copies: 2,
        dataShards: 239, parityShards: 16, shardSize: 4096)

    @Test func descriptorIs128BytesAndRoundTrips() throws {
        let bytes = Self.descriptor.serialized
        #expect(bytes.count == 128)
        #expect(Array(bytes[112..<116]) == [0, 0, 16, 0])  // chunk size, little-endian
        #expect(bytes[117] == 0xFB)  // zstd level -5 as Int8
        var reader = LittleEndianReader(bytes)
        #expect(try BackupDescriptor(parsing: &reader) == Self.descriptor)
    }

    @Test func wrapAssociatedDataExcludesTheWrappedKeyOnly() {
        var other = Self.descriptor
        other.wrappedKey = Array(repeating: 1, count: 60)
        #expect(other.wrapAssociatedData == Self.descriptor.wrapAssociatedData)
        other.kdf.timeCost = 4
        #expect(other.wrapAssociatedData != Self.descriptor.wrapAssociatedData)
    }

    @Test func hostileDescriptorFieldsAreRefusedByName() {
        let cases: [(Int, UInt8, String)] = [
            (119, 3, "copies 3"), (116, 9, "compression code 9"),
            (118, 0, "checksum algorithm 0"), (122, 250, "stripe shape"),
        ]
        for (offset, value, fragment) in cases {
            var bytes = Self.descriptor.serialized
            bytes[offset] = value
            var reader = LittleEndianReader(bytes)
            #expect(throws: FormatError.self) { try BackupDescriptor(parsing: &reader) }
            reader = LittleEndianReader(bytes)
            do {
                _ = try BackupDescriptor(parsing: &reader)
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
        var short = LittleEndianReader(Array(Self.descriptor.serialized.prefix(100)))
        #expect(throws: FormatError.truncated("descriptor")) { try BackupDescriptor(parsing: &short) }
    }

    @Test func stripeHeaderRoundTripsThroughItsBlock() throws {
        let header = StripeHeader(
            copy: 1, isLast: true, stripeIndex: 41, dataLength: 12_345,
            descriptor: Self.descriptor, checksums: Array(repeating: 0xAB, count: 255 * 16))
        let block = header.encoded
        #expect(block.count == ProtectedBlock.size)
        #expect(Array(block[0..<8]) == Array("DBS-STRP".utf8))
        let decoded = try #require(ProtectedBlock.decode(block))
        #expect(decoded.correctedBytes == 0)
        #expect(try StripeHeader(body: decoded.body) == header)
    }

    @Test func protectedBlockCorrectsBurstsUpTo29ShardsAndRefusesBeyond() throws {
        let header = StripeHeader(
            copy: 0, isLast: false, stripeIndex: 3, dataLength: 978_944,
            descriptor: Self.descriptor, checksums: Array(repeating: 0x5C, count: 255 * 16))
        let block = header.encoded
        // 29 shards (1856 bytes) zeroed anywhere, body included: corrected.
        for start in [0, 1000, 4400, 6300] {
            var damaged = block
            for i in start..<min(block.count, start + 1856) { damaged[i] = 0 }
            let decoded = try #require(ProtectedBlock.decode(damaged), "burst at \(start)")
            #expect(try StripeHeader(body: decoded.body) == header)
        }
        // Scattered flips at 1e-3 per bit, ten times the bit-rot benchmark's worst.
        var rng = SeededGenerator(seed: 3)
        var flipped = block
        for _ in 0..<66 { flipped[Int(rng.next() % 8192)] ^= UInt8(1 << (rng.next() % 8)) }
        #expect(try StripeHeader(body: #require(ProtectedBlock.decode(flipped)).body) == header)
        // Half the block gone: beyond 29 per column; refused, never a wrong body.
        var destroyed = block
        for i in 0..<4096 { destroyed[i] = UInt8(truncatingIfNeeded: i &* 31) }
        #expect(ProtectedBlock.decode(destroyed) == nil)
        #expect(ProtectedBlock.decode(Array(block.prefix(100))) == nil)
    }

    @Test func headRecordChecksItsDerivedOffsets() throws {
        let head = Head(
            headIndex: 2, descriptor: Self.descriptor, stripeCount: 10, ciphertextLength: 9_000_000,
            chunkCount: 9)
        #expect(try Head(body: head.body) == head)
        var body = head.body
        body[208] ^= 1  // stored file length
        #expect(throws: FormatError.self) { try Head(body: body) }
        var future = head.body
        future[8] = 2  // format version 2
        #expect(throws: FormatError.unsupportedVersion(2)) { try Head(body: future) }
    }

    @Test func layoutPlacesEveryRegionOnShardBoundaries() {
        let layout = ContainerLayout(dataShards: 239, parityShards: 16, shardSize: 4096, copies: 2, stripeCount: 3)
        #expect(layout.headerSize == 8192)
        #expect(layout.recordSize == 8192 + 255 * 4096)
        #expect(layout.copyOffset(1) == UInt64(2 * 8192 + 3 * layout.recordSize))
        #expect(layout.fileLength == UInt64(3 * 8192 + 6 * layout.recordSize))
        #expect(layout.headBlockOffset(2) == layout.fileLength - 8192)
        for offset in [
            layout.copyOffset(0), layout.copyOffset(1), layout.headRegionOffset(1),
            layout.shardOffset(copy: 1, stripe: 2, shard: 254),
        ] {
            #expect(offset % 4096 == 0)
        }
        let odd = ContainerLayout(dataShards: 4, parityShards: 2, shardSize: 3000, copies: 1, stripeCount: 1)
        #expect(odd.headerSize == 9000)
    }
}
