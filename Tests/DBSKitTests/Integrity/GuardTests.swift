import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Issue 12, item 10: tests that fail when a guard of the repair is removed. Each was
/// checked by planting the bug it names and watching the test fail.
@Suite("Guards of the repair")
struct GuardTests {
    /// Replaces shard `shard` of stripe `stripe` with `bytes` in both copies and writes
    /// the matching checksum entry into both stripe headers (block checksum and parity
    /// recomputed): a forgery every integrity check but the parity and GCM accepts.
    static func forgeShard(
        _ sample: DamageTests.Sample, stripe: UInt64, shard: Int, _ change: (inout [UInt8]) -> Void
    ) throws {
        let layout = sample.layout
        let file = try PositionedFile.openForReading(sample.path)
        let s = layout.shardSize
        var bytes = try file.read(count: s, at: layout.shardOffset(copy: 0, stripe: stripe, shard: shard))
        change(&bytes)
        var digest = [UInt8]()
        let descriptor = try ContainerLocator.locate(file).descriptor
        descriptor.checksum.digest(bytes).append(to: &digest)
        var headers: [(UInt64, [UInt8])] = []
        for copy in 0..<layout.copies {
            let offset = layout.recordOffset(copy: copy, stripe: stripe)
            var header = try #require(ContainerLocator.decodeStripeHeader(file, at: offset))
            header.checksums.replaceSubrange((shard * 16)..<((shard + 1) * 16), with: digest)
            headers.append((offset, header.encoded))
        }
        Fixture.mutate(sample.path) { file in
            for copy in 0..<layout.copies {
                let at = Int(layout.shardOffset(copy: copy, stripe: stripe, shard: shard))
                file.replaceSubrange(at..<(at + s), with: bytes)
            }
            for (offset, block) in headers {
                file.replaceSubrange(Int(offset)..<(Int(offset) + block.count), with: block)
            }
        }
    }

    /// (a) A shard forged with its checksum entries in both headers, and another shard
    /// of the stripe zeroed in both copies. Rebuilding the zeroed shard from the forged
    /// one gives wrong bytes: only the re-check of rebuilt shards against their
    /// checksums refuses them. Without it the validator calls the stripe healable and
    /// the restore fails late, in GCM; with it every reader refuses as the repair.
    @Test func forgedChecksumEntriesInBothHeadersAreNotABasisForRebuilding() throws {
        let sample = try DamageTests.smallSample(seed: 61)
        defer { sample.cleanup() }
        let layout = sample.layout
        try Self.forgeShard(sample, stripe: 1, shard: 3) {
            $0[0] ^= 0xFF
            $0[100] ^= 0x01
        }
        for copy in 0..<2 {
            DamageTests.zero(
                sample.path, offset: layout.shardOffset(copy: copy, stripe: 1, shard: 5), length: layout.shardSize)
        }
        let expected = (0..<2).map {
            LostShard(
                copy: $0, stripe: 1, shard: 5,
                fileOffset: layout.shardOffset(copy: $0, stripe: 1, shard: 5))
        }
        #expect(try DamageTests.expectRefusedByRepair(sample) == expected)
        let reported = try DamageTests.expectUnrecoverableWithoutPassphrase(sample)
        #expect(reported.validator == expected && reported.repairer == expected)
    }

    /// (b) A miscorrection of weight m + 1 in both copies: a nonzero codeword of the
    /// stripe's code (one data shard's bytes changed and every parity shard changed to
    /// match; an MDS code's minimum weight) added to the stripe in both copies. Every
    /// column is then a valid codeword, the wrong one: the column decode finds nothing
    /// to fix and no column fails, and m + 1 shards are bad in both copies, one more
    /// than a whole-shard rebuild takes. Only the shard checksums tell; a column round
    /// that kept its unresolved shards because no column failed would call the stripe
    /// healable, and only GCM would notice, later. Every reader must refuse it as the
    /// repair, naming the 2 (m + 1) lost shards.
    @Test func aMiscorrectionOfWeightMPlusOneInBothCopiesIsUnrecoverable() throws {
        let sample = try DamageTests.smallSample(seed: 63)
        defer { sample.cleanup() }
        let layout = sample.layout
        let k = layout.dataShards
        let m = layout.parityShards
        let s = layout.shardSize
        let stripe: UInt64 = 1
        let dataShard = 2
        var error = [UInt8](repeating: 0, count: layout.totalShards * s)
        var rng = SeededGenerator(seed: 63)
        for column in 0..<s { error[dataShard * s + column] = UInt8(1 + rng.next() % 255) }
        try ReedSolomon(dataShards: k, parityShards: m).encode(stripe: &error, shardLength: s)
        let changed = (0..<layout.totalShards).filter { shard in
            error[(shard * s)..<((shard + 1) * s)].contains { $0 != 0 }
        }
        #expect(changed == [dataShard] + Array(k..<(k + m)), "the added codeword has weight m + 1")
        Fixture.mutate(sample.path) { bytes in
            for copy in 0..<layout.copies {
                let start = Int(layout.shardOffset(copy: copy, stripe: stripe, shard: 0))
                for i in 0..<error.count { bytes[start + i] ^= error[i] }
            }
        }
        let expected = (0..<layout.copies).flatMap { copy in
            changed.map {
                LostShard(
                    copy: copy, stripe: stripe, shard: $0,
                    fileOffset: layout.shardOffset(copy: copy, stripe: stripe, shard: $0))
            }
        }.sorted { ($0.shard, $0.copy) < ($1.shard, $1.copy) }
        let byShard = { (lost: [LostShard]) in lost.sorted { ($0.shard, $0.copy) < ($1.shard, $1.copy) } }

        let reported = try DamageTests.expectUnrecoverableWithoutPassphrase(sample)
        #expect(byShard(reported.validator) == expected && byShard(reported.repairer) == expected)
        #expect(byShard(try DamageTests.expectRefusedByRepair(sample)) == expected)
    }

    /// A backup of the same chunk repeated, stored uncompressed: in the file every chunk's
    /// ciphertext must differ (no 32-byte window of copy A's stream repeats). A nonce
    /// that did not change with the chunk index would seal every chunk with one
    /// keystream, which round trips perfectly and leaks the XOR of any two chunks.
    @Test func repeatedPlaintextChunksNeverRepeatInTheFile() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        var options = Fixture.smallOptions()
        options.compression = .none
        let chunk = Fixture.randomBytes(options.chunkSize, seed: 64)
        let data = Array([[UInt8]](repeating: chunk, count: 6).joined())
        try Fixture.write(data, to: path, options: options)
        let info = try Fixture.info(path)
        let layout = DamageTests.Sample(directory: dir, path: path, data: data, info: info).layout
        let file = try PositionedFile.openForReading(path)
        var stream = [UInt8]()
        for stripe in 0..<layout.stripeCount {
            stream += try file.read(
                count: layout.dataShards * layout.shardSize,
                at: layout.shardOffset(copy: 0, stripe: stripe, shard: 0))
        }
        stream = Array(stream.prefix(Int(try #require(info.ciphertextLength))))
        #expect(stream.count > data.count)
        var windows = Set<[UInt8]>()
        var repeats = 0
        for start in 0..<(stream.count - 32) where !windows.insert(Array(stream[start..<(start + 32)])).inserted {
            repeats += 1
        }
        #expect(repeats == 0, "\(repeats) repeated 32-byte windows in the ciphertext stream")
        #expect(try Fixture.read(path).0 == data)
    }

    /// (c) A backup written without verify-after-write, read from copy B alone (copy A
    /// zeroed whole): copy B must hold every record, not headers only.
    @Test func aNoVerifyBackupRestoresFromCopyBAlone() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        var options = Fixture.smallOptions()
        options.verifyAfterWrite = false
        let data = Fixture.randomBytes(50_000, seed: 62)
        try Fixture.write(data, to: path, options: options)
        let info = try Fixture.info(path)
        let a = info.copyExtents[0]
        DamageTests.zero(path, offset: a.offset, length: Int(a.length))
        let (back, report) = try Fixture.read(path)
        #expect(back == data)
        // Every shard of copy A that is not all zero (the padding of the last stripe is) came from copy B.
        #expect(report.totalShardsFromOtherCopy > Int(info.stripeCount - 1) * (info.dataShards + info.parityShards))
        #expect(report.lostShards.isEmpty)
    }
}
