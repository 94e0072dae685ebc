import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Every damage class of issue 3 injected into real files: the reader returns the exact
/// plaintext and reports the healing, or refuses; it never returns wrong data.
@Suite("Damage: repair on read")
struct DamageTests {
    /// A backup in a temp directory with its plaintext and layout.
    struct Sample {
        let directory: String
        let path: String
        let data: [UInt8]
        let info: BackupInfo
        var layout: ContainerLayout {
            ContainerLayout(
                dataShards: info.dataShards, parityShards: info.parityShards, shardSize: info.shardSize,
                copies: info.copies, stripeCount: info.stripeCount)
        }
        func cleanup() { Fixture.removeDirectory(directory) }
    }

    /// Three stripes of the default shape (k = 239, m = 16, S = 4096): about 6 MiB.
    static func defaultSample(seed: UInt64, copies: Int = 2) throws -> Sample {
        let dir = Fixture.temporaryDirectory()
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(2_500_000, seed: seed)
        var options = Fixture.defaultShapeOptions()
        options.copies = copies
        try Fixture.write(data, to: path, options: options, pieceSize: 1 << 16)
        return Sample(directory: dir, path: path, data: data, info: try Fixture.info(path))
    }

    static func smallSample(seed: UInt64, size: Int = 60_000) throws -> Sample {
        let dir = Fixture.temporaryDirectory()
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(size, seed: seed)
        try Fixture.write(data, to: path, options: Fixture.smallOptions())
        return Sample(directory: dir, path: path, data: data, info: try Fixture.info(path))
    }

    /// Reads back; expects the exact data and a healed (or clean) report.
    @discardableResult
    static func expectExact(_ sample: Sample, sourceLocation: SourceLocation = #_sourceLocation) throws -> RepairReport
    {
        let (back, report) = try Fixture.read(sample.path)
        #expect(back == sample.data, sourceLocation: sourceLocation)
        #expect(report.lostShards.isEmpty, sourceLocation: sourceLocation)
        return report
    }

    /// Which refusal a damaged file must get. They differ in what they say about the
    /// repair: `byRepair` is the repair knowing it cannot rebuild some shards (the
    /// report names them); `byGCM` is wrong bytes the repair let through, caught by a
    /// chunk's tag, which for damage a test planted on purpose beyond the parity means
    /// a miscorrection; `notABackup` is a file with no layout left to find.
    enum Refusal: CustomStringConvertible {
        case byRepair, byGCM, notABackup
        var description: String {
            switch self {
            case .byRepair: "the repair (damagedBeyondRepair)"
            case .byGCM: "GCM (corruptedChunk)"
            case .notABackup: "the locator (notABackup)"
            }
        }
        func matches(_ error: any Error) -> Bool {
            switch (self, error as? BackupError) {
            case (.byRepair, .damagedBeyondRepair?), (.byGCM, .corruptedChunk?), (.notABackup, .notABackup?): true
            default: false
            }
        }
    }

    /// Reads back; expects the refusal of the repair itself (`damagedBeyondRepair`, not
    /// a GCM or stream error after a miscorrection), a correct prefix before it, and
    /// returns the lost shards it reports.
    static func expectRefusedByRepair(
        _ sample: Sample, sourceLocation: SourceLocation = #_sourceLocation
    ) throws
        -> [LostShard]
    {
        try expectRefused(sample, by: .byRepair, sourceLocation: sourceLocation)
    }

    /// Reads back; expects the refusal `refusal` (at open or while reading), that
    /// whatever came out before it is a correct prefix of the plaintext, and that
    /// reading on yields nothing more. Returns the lost shards a refusal by the repair
    /// reports.
    @discardableResult
    static func expectRefused(
        _ sample: Sample, by refusal: Refusal,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [LostShard] {
        func check(_ error: any Error) -> [LostShard] {
            #expect(
                refusal.matches(error), "expected a refusal by \(refusal), got \(error)", sourceLocation: sourceLocation
            )
            if case .damagedBeyondRepair(let report)? = error as? BackupError { return report.lostShards }
            return []
        }
        let reader: BackupReader
        do {
            reader = try BackupReader(path: sample.path, passphrase: Fixture.secure(Fixture.passphrase), threads: 2)
        } catch {
            return check(error)
        }
        var out = [UInt8]()
        var lost: [LostShard] = []
        do {
            while try reader.read(into: &out, maxLength: 1 << 16) > 0 {}
            Issue.record("damage beyond repair was not refused", sourceLocation: sourceLocation)
        } catch {
            lost = check(error)
        }
        // Reading on after the refusal yields nothing more.
        #expect(throws: BackupError.self, sourceLocation: sourceLocation) {
            try reader.read(into: &out, maxLength: 1 << 16)
        }
        #expect(out.count < sample.data.count, sourceLocation: sourceLocation)
        #expect(Array(sample.data.prefix(out.count)) == out, sourceLocation: sourceLocation)
        return lost
    }

    /// Flips each bit of the file with probability `rate`.
    static func flipBits(_ path: String, rate: Double, seed: UInt64) -> Int {
        var rng = SeededGenerator(seed: seed)
        var flips = 0
        Fixture.mutate(path) { bytes in
            let bits = Double(bytes.count * 8)
            // Geometric gaps between flips: exact rate, no per-bit draw.
            var position = 0.0
            while true {
                let u = Double(rng.next() >> 11) / Double(1 << 53)
                position += (-log(1 - u) / rate).rounded(.down) + 1
                guard position <= bits else { break }
                let bit = Int(position) - 1
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                flips += 1
            }
        }
        return flips
    }

    static func zero(_ path: String, offset: UInt64, length: Int) {
        Fixture.mutate(path) { bytes in
            let start = Int(offset)
            let end = min(bytes.count, start + length)
            for i in start..<end { bytes[i] = 0 }
        }
    }

    // MARK: bit rot

    @Test(arguments: [(1e-7, 1), (1e-6, 2), (1e-5, 3), (1e-4, 4)])
    func bitFlipsInBothCopies(rate: Double, seed: UInt64) throws {
        let sample = try Self.defaultSample(seed: 100 + seed)
        defer { sample.cleanup() }
        let flips = Self.flipBits(sample.path, rate: rate, seed: seed)
        #expect(flips > 0)
        let report = try Self.expectExact(sample)
        if rate >= 1e-5 { #expect(report.healed) }
        if rate >= 1e-4 { #expect(report.totalBytesCorrected > 0) }
    }

    // MARK: zeroed runs

    @Test func zeroedRunInOneCopy() throws {
        let sample = try Self.defaultSample(seed: 11)
        defer { sample.cleanup() }
        let a = sample.info.copyExtents[0]
        Self.zero(sample.path, offset: a.offset + 300_000, length: 900_000)
        let report = try Self.expectExact(sample)
        #expect(report.totalShardsFromOtherCopy > 200)
        #expect(report.totalShardsRebuilt == 0)
    }

    @Test func zeroedRunsInBothCopiesAtDifferentPlaces() throws {
        let sample = try Self.defaultSample(seed: 12)
        defer { sample.cleanup() }
        Self.zero(sample.path, offset: sample.info.copyExtents[0].offset + 100_000, length: 500_000)
        Self.zero(sample.path, offset: sample.info.copyExtents[1].offset + 1_200_000, length: 700_000)
        let report = try Self.expectExact(sample)
        // Copy B is read only where copy A fails, so only A's 123 shards show.
        #expect(report.totalShardsFromOtherCopy >= 122)
    }

    @Test func zeroedRunAtTheSamePlaceInBothCopiesWithinParity() throws {
        let sample = try Self.defaultSample(seed: 13)
        defer { sample.cleanup() }
        let layout = sample.layout
        // 16 whole shards of stripe 1 (= m), the same ones in both copies.
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.shardOffset(copy: copy, stripe: 1, shard: 40), length: 16 * 4096)
        }
        let report = try Self.expectExact(sample)
        #expect(report.totalShardsRebuilt == 16)
    }

    @Test func unalignedRunAtTheSamePlaceInBothCopies() throws {
        let sample = try Self.defaultSample(seed: 14)
        defer { sample.cleanup() }
        let layout = sample.layout
        // 15 shards' worth, not shard-aligned: touches 16 shards in both copies.
        for copy in 0..<2 {
            Self.zero(
                sample.path, offset: layout.shardOffset(copy: copy, stripe: 0, shard: 100) + 1000,
                length: 15 * 4096)
        }
        let report = try Self.expectExact(sample)
        #expect(report.totalShardsRebuilt == 16)
    }

    @Test func seventeenShardRunAtTheSamePlaceInBothCopiesIsRefused() throws {
        let sample = try Self.defaultSample(seed: 15)
        defer { sample.cleanup() }
        let layout = sample.layout
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.shardOffset(copy: copy, stripe: 1, shard: 10), length: 17 * 4096)
        }
        // Refused by the repair, naming the 17 shards in both copies (not by GCM after a
        // miscorrection, which `expectRefused` alone would accept too).
        let lost = try Self.expectRefusedByRepair(sample)
        #expect(lost.map(\.shard).sorted() == (10..<27).flatMap { [$0, $0] })
        #expect(Set(lost.map(\.copy)) == [0, 1] && Set(lost.map(\.stripe)) == [1])
        do {
            _ = try Fixture.read(sample.path)
        } catch let error as BackupError {
            guard case .damagedBeyondRepair(let report) = error else {
                Issue.record("expected damagedBeyondRepair, got \(error)")
                return
            }
            #expect(report.lostShards.count == 34)
            #expect(
                report.lostShards.first
                    == LostShard(
                        copy: 0, stripe: 1, shard: 10,
                        fileOffset: layout.shardOffset(copy: 0, stripe: 1, shard: 10)))
        }
        guard case .unrecoverable = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("the validator did not call it unrecoverable")
            return
        }
    }

    // MARK: metadata

    @Test func headZeroOverwritten() throws {
        let sample = try Self.smallSample(seed: 21)
        defer { sample.cleanup() }
        Self.zero(sample.path, offset: 0, length: 8192)
        let report = try Self.expectExact(sample)
        #expect(report.headsDamaged == [0])
        #expect(try Fixture.info(sample.path).heads == ["unreadable", "intact", "intact"])
    }

    @Test func onlyTheMiddleHeadSurvives() throws {
        let sample = try Self.smallSample(seed: 28)
        defer { sample.cleanup() }
        let layout = sample.layout
        Self.zero(sample.path, offset: 0, length: 8192)
        Self.zero(sample.path, offset: layout.headBlockOffset(2), length: 8192)
        // Copy A's first header too, so the scan meets head #1 before any usable stripe header.
        Self.zero(sample.path, offset: layout.recordOffset(copy: 0, stripe: 0), length: 8192)
        let info = try Fixture.info(sample.path)
        #expect(info.heads == ["unreadable", "intact", "unreadable"])
        #expect(info.chunkCount != nil)
        try Self.expectExact(sample)
    }

    @Test func everyHeadOverwritten() throws {
        let sample = try Self.defaultSample(seed: 22)
        defer { sample.cleanup() }
        let layout = sample.layout
        var rng = SeededGenerator(seed: 22)
        Fixture.mutate(sample.path) { bytes in
            for head in 0..<3 {
                let start = Int(layout.headRegionOffset(head))
                for i in start..<(start + layout.headerSize) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            }
        }
        let info = try Fixture.info(sample.path)
        #expect(info.layoutFromScan)
        #expect(info.stripeCount == sample.info.stripeCount)
        let report = try Self.expectExact(sample)
        #expect(report.layoutFromScan)
    }

    /// What the bit-rot benchmark does: every head overwritten, then bit flips
    /// everywhere, stripe headers included.
    @Test func everyHeadOverwrittenAndBitRotEverywhere() throws {
        let sample = try Self.defaultSample(seed: 27)
        defer { sample.cleanup() }
        let layout = sample.layout
        var rng = SeededGenerator(seed: 27)
        Fixture.mutate(sample.path) { bytes in
            for head in 0..<3 {
                let start = Int(layout.headRegionOffset(head))
                for i in start..<(start + layout.headerSize) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            }
        }
        _ = Self.flipBits(sample.path, rate: 1e-4, seed: 27)
        let report = try Self.expectExact(sample)
        #expect(report.layoutFromScan)
        #expect(report.totalHeadersRepaired > 0)
    }

    @Test func everyHeadAndTheFirstStripeHeadersOverwritten() throws {
        let sample = try Self.defaultSample(seed: 23)
        defer { sample.cleanup() }
        let layout = sample.layout
        for head in 0..<3 { Self.zero(sample.path, offset: layout.headRegionOffset(head), length: layout.headerSize) }
        Self.zero(sample.path, offset: layout.recordOffset(copy: 0, stripe: 0), length: layout.headerSize)
        try Self.expectExact(sample)
    }

    @Test func stripeHeadersOverwrittenInOneCopy() throws {
        let sample = try Self.defaultSample(seed: 24)
        defer { sample.cleanup() }
        let layout = sample.layout
        for stripe in 0..<layout.stripeCount {
            Self.zero(sample.path, offset: layout.recordOffset(copy: 0, stripe: stripe), length: 4096)
        }
        let report = try Self.expectExact(sample)
        #expect(report.totalHeadersRepaired == Int(layout.stripeCount))
    }

    @Test func bothHeadersOfOneStripeOverwritten() throws {
        let sample = try Self.defaultSample(seed: 25)
        defer { sample.cleanup() }
        let layout = sample.layout
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.recordOffset(copy: copy, stripe: 1), length: layout.headerSize)
        }
        let report = try Self.expectExact(sample)
        #expect(report.stripes.contains { $0.stripe == 1 && $0.decodedWithoutHeader })
    }

    @Test func bothHeadersAndSomeShardsOfOneStripeOverwritten() throws {
        let sample = try Self.defaultSample(seed: 26)
        defer { sample.cleanup() }
        let layout = sample.layout
        // Headers gone in both copies, plus a 5-shard run in copy A only.
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.recordOffset(copy: copy, stripe: 0), length: layout.headerSize)
        }
        Self.zero(sample.path, offset: layout.shardOffset(copy: 0, stripe: 0, shard: 3), length: 5 * 4096)
        try Self.expectExact(sample)
    }

    // MARK: truncation and missing parts

    @Test(arguments: [(0.10, true), (0.40, true), (0.60, false)])
    func truncation(fractionCut: Double, recoverable: Bool) throws {
        let sample = try Self.defaultSample(seed: 31)
        defer { sample.cleanup() }
        let keep = Int(Double(sample.info.fileLength) * (1 - fractionCut))
        Fixture.mutate(sample.path) { $0.removeLast($0.count - keep) }
        if recoverable {
            try Self.expectExact(sample)
        } else {
            try Self.expectRefused(sample, by: .byRepair)
        }
    }

    @Test func copyBMissing() throws {
        let sample = try Self.defaultSample(seed: 32)
        defer { sample.cleanup() }
        let cut = Int(sample.layout.headRegionOffset(1))
        Fixture.mutate(sample.path) { $0.removeLast($0.count - cut) }
        try Self.expectExact(sample)
    }

    @Test func startOfCopyADestroyed() throws {
        let sample = try Self.defaultSample(seed: 33)
        defer { sample.cleanup() }
        Self.zero(sample.path, offset: 0, length: 1_500_000)
        let report = try Self.expectExact(sample)
        #expect(report.headsDamaged.contains(0))
    }

    @Test func singleCopyHealsWithParityAlone() throws {
        let sample = try Self.defaultSample(seed: 34, copies: 1)
        defer { sample.cleanup() }
        // 12 whole shards of stripe 0 (erasures), scattered flips elsewhere (column
        // decode, errors only): parity alone must do.
        Self.zero(sample.path, offset: sample.layout.shardOffset(copy: 0, stripe: 0, shard: 7), length: 12 * 4096)
        Fixture.mutate(sample.path) { bytes in
            let stripe1 = Int(sample.layout.shardOffset(copy: 0, stripe: 1, shard: 0))
            for i in 0..<200 { bytes[stripe1 + i * 4099] ^= 0x40 }
        }
        let report = try Self.expectExact(sample)
        #expect(report.totalShardsRebuilt == 12)
        #expect(report.totalBytesCorrected == 200)
    }

    /// Issue 12, item 1: 17 shards of one stripe zeroed in a single-copy backup (one
    /// more than its parity) trapped in the column rounds, which indexed copy B's
    /// suspect-run mask when there is no copy B. Every reader must refuse with the
    /// lost-shard report instead: the restore, the validator and the repairer.
    @Test func singleCopySeventeenShardsLostIsRefusedWithTheLostShards() throws {
        let sample = try Self.defaultSample(seed: 35, copies: 1)
        defer { sample.cleanup() }
        let layout = sample.layout
        Self.zero(sample.path, offset: layout.shardOffset(copy: 0, stripe: 1, shard: 2), length: 17 * 4096)
        let expected = (2..<19).map {
            LostShard(
                copy: 0, stripe: 1, shard: $0,
                fileOffset: layout.shardOffset(copy: 0, stripe: 1, shard: $0))
        }
        let lost = try Self.expectRefusedByRepair(sample)
        #expect(lost == expected)
        let reported = try Self.expectUnrecoverableWithoutPassphrase(sample)
        #expect(reported.validator == expected && reported.repairer == expected)
    }

    /// The passphrase-less readers on damage beyond repair: the validator calls the file
    /// unrecoverable, the repairer refuses with `damagedBeyondRepair` and writes nothing.
    /// Returns the lost shards each reports (empty where it did not refuse as it must).
    static func expectUnrecoverableWithoutPassphrase(
        _ sample: Sample, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws -> (validator: [LostShard], repairer: [LostShard])
    {
        var result: (validator: [LostShard], repairer: [LostShard]) = ([], [])
        switch try BackupValidator.validate(path: sample.path, threads: 2) {
        case .unrecoverable(let report): result.validator = report.lostShards
        case let verdict: Issue.record("the validator said \(verdict)", sourceLocation: sourceLocation)
        }
        let repaired = sample.directory + "/repaired.dbs"
        do {
            _ = try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
            Issue.record("repair wrote a file from a stripe beyond repair", sourceLocation: sourceLocation)
        } catch {
            if case .damagedBeyondRepair(let report) = error {
                result.repairer = report.lostShards
            } else {
                Issue.record("repair refused with \(error)", sourceLocation: sourceLocation)
            }
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: sample.directory) == ["b.dbs"],
            sourceLocation: sourceLocation)
        return result
    }

    // MARK: tampering

    /// Changes ciphertext in a data shard of both copies and rewrites the shard
    /// checksums, the parity and the headers to match: every integrity check passes,
    /// only GCM can notice. It must, and the reader must call it corruption.
    @Test func tamperingThatKeepsTheChecksumsValidIsCaughtByGCM() throws {
        let sample = try Self.smallSample(seed: 41, size: 30_000)
        defer { sample.cleanup() }
        let layout = sample.layout
        let file = try PositionedFile.openForReading(sample.path)
        let located = try ContainerLocator.locate(file)
        let stripe: UInt64 = 1
        let offset = layout.recordOffset(copy: 0, stripe: stripe)
        var shards = try file.read(count: layout.stripeSize, at: offset + UInt64(layout.headerSize))
        let header = try #require(ContainerLocator.decodeStripeHeader(file, at: offset))
        shards[700] ^= 0x01
        let code = try ReedSolomon(dataShards: layout.dataShards, parityShards: layout.parityShards)
        try code.encode(stripe: &shards, shardLength: layout.shardSize)
        let table = ShardChecksums.table(
            of: shards, shardCount: layout.totalShards, shardSize: layout.shardSize,
            algorithm: located.descriptor.checksum)
        Fixture.mutate(sample.path) { bytes in
            for copy in 0..<2 {
                var tampered = header
                tampered.copy = copy
                tampered.checksums = table
                let at = Int(layout.recordOffset(copy: copy, stripe: stripe))
                bytes.replaceSubrange(at..<(at + ProtectedBlock.size), with: tampered.encoded)
                let shardsAt = at + layout.headerSize
                bytes.replaceSubrange(shardsAt..<(shardsAt + shards.count), with: shards)
            }
        }
        #expect(try BackupValidator.validate(path: sample.path, threads: 2) == .healthy)
        do {
            _ = try Fixture.read(sample.path)
            Issue.record("tampered ciphertext was returned as data")
        } catch let error as BackupError {
            guard case .corruptedChunk = error else {
                Issue.record("expected corruptedChunk, got \(error)")
                return
            }
            #expect(error.category == .damaged)
        }
    }

    // MARK: validate and repair

    @Test func validatorCallsACleanFileHealthy() throws {
        let sample = try Self.smallSample(seed: 51)
        defer { sample.cleanup() }
        #expect(try BackupValidator.validate(path: sample.path, threads: 2) == .healthy)
    }

    @Test func repairWritesACleanFileFromADamagedOne() throws {
        let sample = try Self.defaultSample(seed: 52)
        defer { sample.cleanup() }
        let layout = sample.layout
        _ = Self.flipBits(sample.path, rate: 1e-5, seed: 52)
        Self.zero(sample.path, offset: layout.shardOffset(copy: 1, stripe: 2, shard: 0), length: 30 * 4096)
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.recordOffset(copy: copy, stripe: 1), length: layout.headerSize)
        }
        Self.zero(sample.path, offset: layout.headRegionOffset(0), length: 8192)
        guard case .healable(let found) = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("the validator did not call it healable")
            return
        }
        #expect(found.totalShardsFromOtherCopy >= 30)
        let repaired = sample.directory + "/repaired.dbs"
        let report = try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
        #expect(report.healed)
        #expect(try BackupValidator.validate(path: repaired, threads: 2) == .healthy)
        let (back, again) = try Fixture.read(repaired)
        #expect(back == sample.data)
        #expect(again.isClean)
        #expect(try Fixture.info(repaired).backupID == sample.info.backupID)
    }

    @Test func repairRefusesWhatCannotBeRepairedAndWritesNothing() throws {
        let sample = try Self.smallSample(seed: 53)
        defer { sample.cleanup() }
        let layout = sample.layout
        for copy in 0..<2 {
            Self.zero(sample.path, offset: layout.shardOffset(copy: copy, stripe: 2, shard: 0), length: 5 * 512)
        }
        let repaired = sample.directory + "/repaired.dbs"
        #expect(throws: BackupError.self) {
            try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: sample.directory) == ["b.dbs"])
    }
}
