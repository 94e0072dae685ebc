import Foundation
import Testing
@testable import DBSKit
import DBSTestSupport

/// Issue 12, item 10: tests that fail when a guard of the repair is removed. Each was
/// checked by planting the bug it names and watching the test fail.
@Suite("Guards of the repair")
struct GuardTests {
    /// Replaces shard `shard` of stripe `stripe` with `bytes` in both copies and writes
    /// the matching checksum entry into both stripe headers (block checksum and parity
    /// recomputed): a forgery every integrity check but the parity and GCM accepts.
    static func forgeShard(_ sample: DamageTests.Sample, stripe: UInt64, shard: Int, _ change: (inout [UInt8]) -> Void) throws {
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
            for (offset, block) in headers { file.replaceSubrange(Int(offset)..<(Int(offset) + block.count), with: block) }
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
        try Self.forgeShard(sample, stripe: 1, shard: 3) { $0[0] ^= 0xFF; $0[100] ^= 0x01 }
        for copy in 0..<2 {
            DamageTests.zero(sample.path, offset: layout.shardOffset(copy: copy, stripe: 1, shard: 5), length: layout.shardSize)
        }
        let expected = (0..<2).map { LostShard(copy: $0, stripe: 1, shard: 5,
                                                fileOffset: layout.shardOffset(copy: $0, stripe: 1, shard: 5)) }
        #expect(try DamageTests.expectRefusedByRepair(sample) == expected)
        guard case .unrecoverable(let report) = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("the validator accepted a stripe rebuilt from a forged shard")
            return
        }
        #expect(report.lostShards == expected)
        do {
            _ = try BackupRepairer.repair(source: sample.path, destination: sample.directory + "/r.dbs", threads: 2)
            Issue.record("repair wrote a stripe rebuilt from a forged shard")
        } catch {
            guard case .damagedBeyondRepair(let report) = error else { Issue.record("got \(error)"); return }
            #expect(report.lostShards == expected)
        }
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
