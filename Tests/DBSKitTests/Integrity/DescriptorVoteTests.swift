import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Issue 12, items 2 and 5: a head that decodes (its checksum valid) but disagrees with
/// the other replicas of the metadata is outvoted, reported as damaged and never written
/// back by `repair`; the validator reports every disagreement, including a stream end
/// the heads record wrongly.
@Suite("Descriptor vote: forged and tampered heads")
struct DescriptorVoteTests {
    struct Sample {
        let directory: String
        let path: String
        let data: [UInt8]
        let located: LocatedContainer
        func cleanup() { Fixture.removeDirectory(directory) }
    }

    static func sample(seed: UInt64, size: Int = 40_000, copies: Int = 2) throws -> Sample {
        let dir = Fixture.temporaryDirectory()
        let path = dir + "/a.dbs"
        let data = Fixture.randomBytes(size, seed: seed)
        try Fixture.write(data, to: path, options: Fixture.smallOptions(copies: copies))
        let located = try ContainerLocator.locate(try PositionedFile.openForReading(path))
        return Sample(directory: dir, path: path, data: data, located: located)
    }

    /// Rewrites head `index` of the file with `change` applied, a valid protected block
    /// (checksum and parity recomputed): what an attacker or a buggy tool writes.
    static func rewriteHead(_ sample: Sample, _ index: Int, _ change: (inout Head) -> Void) {
        let located = sample.located
        var record = Head(
            headIndex: index, descriptor: located.descriptor,
            stripeCount: located.layout.stripeCount,
            ciphertextLength: located.ciphertextLength!, chunkCount: located.chunkCount!)
        change(&record)
        Fixture.mutate(sample.path) { bytes in
            let offset = index == 2 ? bytes.count - ProtectedBlock.size : Int(located.layout.headBlockOffset(index))
            bytes.replaceSubrange(offset..<(offset + ProtectedBlock.size), with: record.encoded)
        }
    }

    /// The restore returns the exact data and names `heads` as damaged; the validator
    /// calls the file healable (not healthy) naming them too; an in-place repair
    /// writes the elected descriptor everywhere, after which the file is healthy.
    static func expectOutvoted(_ sample: Sample, heads: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws
    {
        let (back, report) = try Fixture.read(sample.path)
        #expect(back == sample.data, sourceLocation: sourceLocation)
        #expect(report.headsDamaged == heads, sourceLocation: sourceLocation)
        guard case .healable(let validated) = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("the validator did not call the file healable", sourceLocation: sourceLocation)
            return
        }
        #expect(validated.headsDamaged == heads, sourceLocation: sourceLocation)
        let repaired = try BackupRepairer.repair(source: sample.path, destination: sample.path, threads: 2)
        #expect(repaired.headsDamaged == heads, sourceLocation: sourceLocation)
        #expect(try BackupValidator.validate(path: sample.path, threads: 2) == .healthy, sourceLocation: sourceLocation)
        let again = try ContainerLocator.locate(try PositionedFile.openForReading(sample.path))
        #expect(again.descriptor == sample.located.descriptor, sourceLocation: sourceLocation)
        #expect(again.ciphertextLength == sample.located.ciphertextLength, sourceLocation: sourceLocation)
        #expect(again.chunkCount == sample.located.chunkCount, sourceLocation: sourceLocation)
        #expect(try Fixture.read(sample.path).0 == sample.data, sourceLocation: sourceLocation)
    }

    /// The issue's reproduction: another backup's first 8 KiB over head 0, with the same
    /// and with another passphrase (restore failed with exit 4 or 3, validate said
    /// healable, `repair --force a a` made the foreign descriptor permanent).
    @Test(arguments: [Fixture.passphrase, "another passphrase"])
    func anotherBackupsHeadOverHeadZero(passphrase: String) throws {
        let sample = try Self.sample(seed: 1)
        defer { sample.cleanup() }
        let other = sample.directory + "/other.dbs"
        try Fixture.write(
            Fixture.randomBytes(70_000, seed: 2), to: other, options: Fixture.smallOptions(),
            passphrase: passphrase)
        let foreign = Array(Fixture.bytes(of: other).prefix(8192))
        Fixture.mutate(sample.path) { $0.replaceSubrange(0..<8192, with: foreign) }
        #expect(try Fixture.info(sample.path).heads == ["disagreeing", "intact", "intact"])
        try Self.expectOutvoted(sample, heads: [0])
    }

    /// One field changed in one head, its checksum recomputed: a KDF parameter, the
    /// stripe count, the stream length, the chunk count; in each of the three heads.
    @Test(arguments: 0..<3)
    func oneFieldChangedInOneHead(head: Int) throws {
        let changes: [(String, (inout Head) -> Void)] = [
            ("KDF memory", { $0.descriptor.kdf.memoryKiB *= 2 }),
            ("salt", { $0.descriptor.salt[0] ^= 1 }),
            ("stripe count", { $0.stripeCount += 1 }),
            ("stream length", { $0.ciphertextLength -= 7 }),
            ("chunk count", { $0.chunkCount += 1 }),
        ]
        for (what, change) in changes {
            let sample = try Self.sample(seed: 10 + UInt64(head))
            defer { sample.cleanup() }
            Self.rewriteHead(sample, head, change)
            let info = try Fixture.info(sample.path)
            #expect(info.heads[head] == "disagreeing", "\(what) in head \(head): \(info.heads)")
            try Self.expectOutvoted(sample, heads: [head])
        }
    }

    /// Item 5: every head records the same wrong stream length (or chunk count). The
    /// stream itself (final flag bound by GCM) says otherwise: validate names all three
    /// heads as damaged instead of "healthy", the restore returns the data and reports
    /// them, `repair` rewrites them from the stream instead of "already healthy".
    @Test(arguments: ["stream length", "chunk count"])
    func everyHeadRecordsAWrongStreamEnd(field: String) throws {
        let sample = try Self.sample(seed: 20)
        defer { sample.cleanup() }
        for head in 0..<3 {
            Self.rewriteHead(sample, head) {
                if field == "stream length" { $0.ciphertextLength -= 1 } else { $0.chunkCount += 1 }
            }
        }
        try Self.expectOutvoted(sample, heads: [0, 1, 2])
    }

    /// Two forged heads against one intact head and the only stripe header: no majority.
    /// The readers refuse, and `repair` writes nothing (it never writes a descriptor the
    /// majority does not carry).
    @Test func noMajorityIsRefused() throws {
        let sample = try Self.sample(seed: 30, size: 1000, copies: 1)
        defer { sample.cleanup() }
        #expect(sample.located.layout.stripeCount == 1)
        var foreign = sample.located.descriptor
        foreign.backupID[0] ^= 0xFF
        for head in [0, 2] { Self.rewriteHead(sample, head) { $0.descriptor = foreign } }
        #expect(throws: BackupError.self) { try Fixture.read(sample.path) }
        #expect(throws: BackupError.self) { try BackupValidator.validate(path: sample.path, threads: 2) }
        let repaired = sample.directory + "/repaired.dbs"
        do {
            _ = try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
            Issue.record("repair wrote a file from heads without a majority")
        } catch {
            guard case .notABackup(let why) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(why.contains("majority"))
        }
        #expect(!FileManager.default.fileExists(atPath: repaired))
    }

    /// A head destroyed outright is named by the validator (it was counted, not named).
    @Test func aDestroyedHeadIsNamed() throws {
        let sample = try Self.sample(seed: 40)
        defer { sample.cleanup() }
        let offset = Int(sample.located.layout.headBlockOffset(1))
        Fixture.mutate(sample.path) { bytes in
            for i in offset..<(offset + ProtectedBlock.size) { bytes[i] = 0 }
        }
        guard case .healable(let report) = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("a destroyed head was not reported")
            return
        }
        #expect(report.headsDamaged == [1])
    }
}
