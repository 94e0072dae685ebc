import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Issue 12, item 8: bytes inserted into or dropped from a backup file (a disk rescued
/// with `dd conv=noerror` without `sync` drops whole blocks) move every later record of
/// that copy; the reader finds the records by their headers where they are, restores
/// exactly, validates the shift as healable damage, and `repair` writes the nominal
/// layout again. Planted or foreign stripe headers are never believed.
@Suite("Shifted stripes: found where they are")
struct ShiftedStripeTests {
    /// k = 16, m = 4, S = 4096: one 4 KiB block is one shard; about 20 stripes.
    static func options(copies: Int) -> BackupOptions {
        BackupOptions(
            threads: 2, copies: copies, dataShards: 16, parityShards: 4, shardSize: 4096,
            kdf: Fixture.fastKDF, chunkSize: 1 << 16)
    }

    static func sample(seed: UInt64, copies: Int = 2) throws -> DamageTests.Sample {
        let dir = Fixture.temporaryDirectory()
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(1_300_000, seed: seed)
        try Fixture.write(data, to: path, options: options(copies: copies), pieceSize: 1 << 16)
        return DamageTests.Sample(directory: dir, path: path, data: data, info: try Fixture.info(path))
    }

    static func insert(_ path: String, _ bytes: [UInt8], at offset: UInt64) {
        Fixture.mutate(path) { $0.insert(contentsOf: bytes, at: Int(offset)) }
    }

    static func delete(_ path: String, _ count: Int, at offset: UInt64) {
        Fixture.mutate(path) { $0.removeSubrange(Int(offset)..<(Int(offset) + count)) }
    }

    /// Restore, validate and repair all heal the file; the validator names the shifts
    /// `expected` (copy, shift) among the runs it reports; the repaired file is at the
    /// nominal layout, healthy, and restores byte for byte.
    @discardableResult
    static func expectHealed(
        _ sample: DamageTests.Sample, shifted expected: [(copy: Int, shift: Int64)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RepairReport {
        let read = try DamageTests.expectExact(sample, sourceLocation: sourceLocation)
        #expect(!read.shiftedRuns.isEmpty, sourceLocation: sourceLocation)
        let verdict = try BackupValidator.validate(path: sample.path, threads: 2)
        guard case .healable(let found) = verdict else {
            Issue.record("validate: \(verdict)", sourceLocation: sourceLocation)
            return read
        }
        for (copy, shift) in expected {
            #expect(
                found.shiftedRuns.contains { $0.copy == copy && $0.shift == shift },
                "copy \(copy) by \(shift) not among \(found.shiftedRuns)", sourceLocation: sourceLocation)
        }
        #expect(found.description.contains("found shifted"), sourceLocation: sourceLocation)
        let repaired = sample.directory + "/repaired.dbs"
        let report = try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
        #expect(report.healed, sourceLocation: sourceLocation)
        #expect(try BackupValidator.validate(path: repaired, threads: 2) == .healthy, sourceLocation: sourceLocation)
        let info = try Fixture.info(repaired)
        #expect(info.fileLength == info.expectedFileLength, sourceLocation: sourceLocation)
        let (back, again) = try Fixture.read(repaired)
        #expect(back == sample.data, sourceLocation: sourceLocation)
        #expect(again.isClean, sourceLocation: sourceLocation)
        return found
    }

    /// One byte inserted in the middle of a shard of copy A: that shard is lost, the
    /// rest of its record and every later record (all of copy B) are one byte further.
    @Test func oneByteInsertedInCopyA() throws {
        let sample = try Self.sample(seed: 81)
        defer { sample.cleanup() }
        let layout = sample.layout
        let middle = layout.stripeCount / 2
        Self.insert(sample.path, [0x5A], at: layout.shardOffset(copy: 0, stripe: middle, shard: 5) + 1000)
        let found = try Self.expectHealed(sample, shifted: [(0, 1), (1, 1)])
        #expect(found.shiftedRuns.first { $0.copy == 0 }?.firstStripe == middle)
        #expect(found.shiftedRuns.first { $0.copy == 0 }?.lastStripe == layout.stripeCount - 1)
        #expect(
            found.shiftedRuns.first { $0.copy == 1 }.map { [$0.firstStripe, $0.lastStripe] }
                == [0, layout.stripeCount - 1])
    }

    /// One 4 KiB block dropped from copy A (a whole shard), as `dd conv=noerror` does.
    @Test func oneBlockDroppedFromCopyA() throws {
        let sample = try Self.sample(seed: 82)
        defer { sample.cleanup() }
        let layout = sample.layout
        Self.delete(sample.path, 4096, at: layout.shardOffset(copy: 0, stripe: 3, shard: 7))
        try Self.expectHealed(sample, shifted: [(0, -4096), (1, -4096)])
    }

    /// A block dropped inside a stripe header of copy A: that header is lost (copy B's
    /// stands in), the stripe's shards and every later record are found 4 KiB earlier.
    @Test func blockDroppedFromAStripeHeader() throws {
        let sample = try Self.sample(seed: 83)
        defer { sample.cleanup() }
        Self.delete(sample.path, 4096, at: sample.layout.recordOffset(copy: 0, stripe: 4) + 2048)
        try Self.expectHealed(sample, shifted: [(0, -4096), (1, -4096)])
    }

    /// Both edits in copy A at different places, and both copies shifted differently
    /// (an insertion in A, a dropped block in B).
    @Test func severalEditsInBothCopies() throws {
        let sample = try Self.sample(seed: 84)
        defer { sample.cleanup() }
        let layout = sample.layout
        // Back to front, so the nominal offsets still name the intended places.
        Self.delete(sample.path, 4096, at: layout.shardOffset(copy: 1, stripe: 12, shard: 2))
        Self.delete(sample.path, 4096, at: layout.shardOffset(copy: 0, stripe: 9, shard: 11))
        Self.insert(sample.path, [1, 2, 3], at: layout.shardOffset(copy: 0, stripe: 2, shard: 0) + 77)
        // Typed apart from the call: Swift 6.2 infers the literal's arithmetic as Int inside
        // the argument and then refuses the array.
        let shifted: [(copy: Int, shift: Int64)] = [
            (copy: 0, shift: 3), (copy: 0, shift: 3 - 4096), (copy: 1, shift: 3 - 4096),
            (copy: 1, shift: -2 * 4096 + 3),
        ]
        try Self.expectHealed(sample, shifted: shifted)
    }

    /// A shift plus ordinary bit rot in both copies.
    @Test func shiftPlusBitRot() throws {
        let sample = try Self.sample(seed: 85)
        defer { sample.cleanup() }
        let layout = sample.layout
        _ = DamageTests.flipBits(sample.path, rate: 2e-6, seed: 85)
        Self.insert(sample.path, [0], at: layout.shardOffset(copy: 0, stripe: 6, shard: 3) + 4000)
        let found = try Self.expectHealed(sample, shifted: [(0, 1), (1, 1)])
        #expect(found.totalShardsFromOtherCopy + found.totalShardsRebuilt + found.totalBytesCorrected > 1)
    }

    /// Single-copy files: no copy B to fall back on; the shard cut by the edit is
    /// rebuilt by parity and the rest of its record is read at the next record's shift.
    @Test(arguments: [(true, 1), (false, 4096)])
    func singleCopy(insert: Bool, count: Int) throws {
        let sample = try Self.sample(seed: 86, copies: 1)
        defer { sample.cleanup() }
        let layout = sample.layout
        let at = layout.shardOffset(copy: 0, stripe: 5, shard: 9)
        if insert {
            Self.insert(sample.path, [0xEE], at: at + 123)
        } else {
            Self.delete(sample.path, count, at: at)
        }
        try Self.expectHealed(sample, shifted: [(0, insert ? 1 : -4096)])
    }

    /// A single-copy file edited inside a stripe header. A byte inserted: the header
    /// still decodes one byte on (its own error correction absorbs the few shards of
    /// body cut before the insertion). Its first 4 KiB dropped: the header is lost, and
    /// the stripe is decoded without one from the shards 4 KiB earlier (the payload's
    /// GCM tags authenticate what comes of it).
    @Test(arguments: [true, false])
    func singleCopyEditInAStripeHeader(insert: Bool) throws {
        let sample = try Self.sample(seed: 91, copies: 1)
        defer { sample.cleanup() }
        let header = sample.layout.recordOffset(copy: 0, stripe: 7)
        if insert {
            Self.insert(sample.path, [0x77], at: header + 300)
        } else {
            Self.delete(sample.path, 4096, at: header)
        }
        let found = try Self.expectHealed(sample, shifted: [(0, insert ? 1 : -4096)])
        #expect(found.stripes.contains { $0.stripe == 7 && $0.decodedWithoutHeader } == !insert)
    }

    /// The file's first 4 KiB dropped (half of head #0): every record of both copies is
    /// 4 KiB early, the layout comes from head #2 at the end of the file.
    @Test func firstBlockOfTheFileDropped() throws {
        let sample = try Self.sample(seed: 92)
        defer { sample.cleanup() }
        Self.delete(sample.path, 4096, at: 0)
        let found = try Self.expectHealed(sample, shifted: [(0, -4096), (1, -4096)])
        #expect(found.headsDamaged.contains(0))
    }

    /// A dropped block in copy A's last stripe: head #1 moves, the tail stays.
    @Test func editInTheLastStripeOfEachCopy() throws {
        let sample = try Self.sample(seed: 87)
        defer { sample.cleanup() }
        let layout = sample.layout
        let last = layout.stripeCount - 1
        Self.insert(sample.path, [9, 9], at: layout.shardOffset(copy: 1, stripe: last, shard: 3) + 5)
        Self.delete(sample.path, 4096, at: layout.shardOffset(copy: 0, stripe: last, shard: 1))
        try Self.expectHealed(sample, shifted: [(1, -4096)])
    }

    /// An attacker inserts a forged stripe header (the elected descriptor, a valid
    /// checksum, a made-up checksum table) claiming the next record's place, and another
    /// backup's stripe header claiming a later one: the reader follows neither.
    @Test func plantedAndForeignStripeHeadersAreNotBelieved() throws {
        let sample = try Self.sample(seed: 88)
        defer { sample.cleanup() }
        let layout = sample.layout
        let bytes = Fixture.bytes(of: sample.path)
        func header(at offset: UInt64, in file: [UInt8]) throws -> StripeHeader {
            let block = Array(file[Int(offset)..<(Int(offset) + ProtectedBlock.size)])
            return try StripeHeader(body: try #require(ProtectedBlock.decode(block)).body)
        }
        var forged = try header(at: layout.recordOffset(copy: 0, stripe: 4), in: bytes)
        forged.checksums = Fixture.randomBytes(forged.checksums.count, seed: 1)
        var planted = forged.encoded
        planted.append(contentsOf: [UInt8](repeating: 0, count: layout.headerSize - planted.count))

        let other = sample.directory + "/other.dbs"
        try Fixture.write(Fixture.randomBytes(1_300_000, seed: 99), to: other, options: Self.options(copies: 2))
        let otherOffset = Int(layout.recordOffset(copy: 0, stripe: 9))
        let foreign = Array(Fixture.bytes(of: other)[otherOffset..<(otherOffset + layout.recordSize)])

        Self.insert(sample.path, foreign, at: layout.recordOffset(copy: 0, stripe: 9))
        Self.insert(sample.path, planted, at: layout.recordOffset(copy: 0, stripe: 4))
        let shift = Int64(layout.headerSize)
        let later = Int64(layout.headerSize + layout.recordSize)
        try Self.expectHealed(sample, shifted: [(0, shift), (0, later), (1, later)])
    }

    /// Ten forged headers for one record (more than the anchors kept per record, all
    /// nearer its nominal offset than the genuine one): the genuine record is still found,
    /// from its neighbour's shift, and nothing forged is restored.
    @Test func manyPlantedHeadersForOneRecord() throws {
        let sample = try Self.sample(seed: 90)
        defer { sample.cleanup() }
        let layout = sample.layout
        let offset = Int(layout.recordOffset(copy: 0, stripe: 4))
        let block = Array(Fixture.bytes(of: sample.path)[offset..<(offset + ProtectedBlock.size)])
        var forged = try StripeHeader(body: try #require(ProtectedBlock.decode(block)).body)
        var planted: [UInt8] = []
        for seed in 0..<10 {
            forged.checksums = Fixture.randomBytes(forged.checksums.count, seed: UInt64(seed))
            planted += forged.encoded + [UInt8](repeating: 0, count: layout.headerSize - ProtectedBlock.size)
        }
        Self.insert(sample.path, planted, at: layout.recordOffset(copy: 0, stripe: 4))
        try Self.expectHealed(sample, shifted: [(0, Int64(planted.count)), (1, Int64(planted.count))])
    }

    /// A genuine stripe header farther from its place than a copy's length is no anchor.
    /// Copy A's header of stripe 3 is zeroed and its bytes written over copy B's last
    /// header, so the scan meets a header of copy A, stripe 3, that `keep` refuses. The
    /// anchor list it left empty for that stripe made the first shift computed from it
    /// trap (found by the libFuzzer file target, fixed in 20e74ed): now the stripe has no
    /// anchor, nothing counts as shifted, and both last headers come from their twins.
    @Test func aGenuineHeaderTooFarFromItsPlaceIsNoAnchor() throws {
        let sample = try Self.sample(seed: 93)
        defer { sample.cleanup() }
        let layout = sample.layout
        let from = Int(layout.recordOffset(copy: 0, stripe: 3))
        let to = Int(layout.recordOffset(copy: 1, stripe: layout.stripeCount - 1))
        #expect(UInt64(to - from) > layout.copyLength + UInt64(layout.headerSize))
        var descriptor: BackupDescriptor?
        var fileLength: UInt64 = 0
        Fixture.mutate(sample.path) { bytes in
            fileLength = UInt64(bytes.count)
            let header = Array(bytes[from..<(from + layout.headerSize)])
            descriptor = ProtectedBlock.decode(Array(header.prefix(ProtectedBlock.size)))
                .flatMap { try? StripeHeader(body: $0.body).descriptor }
            bytes.replaceSubrange(to..<(to + layout.headerSize), with: header)
            bytes.replaceSubrange(from..<(from + layout.headerSize), with: repeatElement(0, count: layout.headerSize))
        }
        let file = try PositionedFile.openForReading(sample.path)
        let anchors = StripeAnchors(
            file: file, fileLength: fileLength,
            descriptor: try #require(descriptor), layout: layout)
        #expect(anchors.records[0][3] == nil)
        #expect(anchors.records[1][layout.stripeCount - 1] == nil)
        #expect(anchors.records[0].count == layout.stripeCount - 1)
        #expect(anchors.nothingShifted)

        let read = try DamageTests.expectExact(sample)
        #expect(read.shiftedRuns.isEmpty)
        guard case .healable = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("validate did not call the file healable")
            return
        }
    }

    /// A healthy file is never scanned for shifted records and reports nothing shifted.
    @Test func aHealthyFileReportsNoShift() throws {
        let sample = try Self.sample(seed: 89)
        defer { sample.cleanup() }
        #expect(try BackupValidator.validate(path: sample.path, threads: 2) == .healthy)
        let report = try DamageTests.expectExact(sample)
        #expect(report.isClean)
    }
}
