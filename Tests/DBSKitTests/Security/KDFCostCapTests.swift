import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit
@testable import DBSSecurity

/// Issue 12, item 4: the Argon2id cost comes from the elected descriptor, and a reader
/// refuses one above its cap before deriving anything, naming the parameters.
@Suite("KDF cost cap")
struct KDFCostCapTests {
    @Test func defaultsAreOneGiBAndTenTimesTheDefaultPasses() {
        #expect(KDFCostCap.default.maximumMemoryKiB == 1 << 20)
        #expect(KDFCostCap.default.maximumTimeCost == 10 * KDFParameters.default.timeCost)
        #expect(KDFCostCap.default.admits(.default))
        #expect(!KDFCostCap.default.admits(KDFParameters(timeCost: 3, memoryKiB: 4 << 20, parallelism: 4)))
        #expect(!KDFCostCap.default.admits(KDFParameters(timeCost: 64, memoryKiB: 65536, parallelism: 64)))
    }

    @Test func aBackupAboveTheCapIsRefusedBeforeAnyDerivation() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        var options = Fixture.smallOptions()
        options.kdf = KDFParameters(timeCost: 2, memoryKiB: 16384, parallelism: 1)
        let data = Fixture.randomBytes(10_000, seed: 5)
        try Fixture.write(data, to: path, options: options)

        for cap in [
            KDFCostCap(maximumMemoryKiB: 8192, maximumTimeCost: 30),
            KDFCostCap(maximumMemoryKiB: 16384, maximumTimeCost: 1),
        ] {
            do {
                _ = try BackupReader(
                    path: path, passphrase: Fixture.secure("not even the passphrase"), threads: 2,
                    kdfCap: cap)
                Issue.record("a backup above the cap \(cap) was opened")
            } catch {
                // Refused as above the cap, not as a wrong passphrase: nothing was derived.
                guard case .kdfCostAboveCap(let asked, let applied) = error else {
                    Issue.record("got \(error)")
                    continue
                }
                #expect(asked == options.kdf)
                #expect(applied == cap)
                #expect(error.description.contains("t = 2, m = 16384 KiB (16 MiB), p = 1"), "\(error)")
            }
        }
        let reader = try BackupReader(
            path: path, passphrase: Fixture.secure(Fixture.passphrase), threads: 2,
            kdfCap: KDFCostCap(maximumMemoryKiB: 16384, maximumTimeCost: 2))
        var out = [UInt8]()
        while try reader.read(into: &out, maxLength: 1 << 16) > 0 {}
        #expect(out == data)
    }

    /// A head asking for 4 GiB (checksum valid) is outvoted: its cost is never paid nor
    /// even refused, the elected descriptor's is used.
    @Test func aForgedHeadsCostIsNotTheOneUsed() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(10_000, seed: 6)
        try Fixture.write(data, to: path, options: Fixture.smallOptions())
        let located = try ContainerLocator.locate(try PositionedFile.openForReading(path))
        var forged = Head(
            headIndex: 0, descriptor: located.descriptor, stripeCount: located.layout.stripeCount,
            ciphertextLength: located.ciphertextLength!, chunkCount: located.chunkCount!)
        forged.descriptor.kdf = KDFParameters(timeCost: 3, memoryKiB: 4 << 20, parallelism: 4)
        Fixture.mutate(path) { $0.replaceSubrange(0..<ProtectedBlock.size, with: forged.encoded) }
        let started = Date()
        let (back, report) = try Fixture.read(path)
        #expect(back == data)
        #expect(report.headsDamaged == [0])
        #expect(Date().timeIntervalSince(started) < 20)
    }
}
