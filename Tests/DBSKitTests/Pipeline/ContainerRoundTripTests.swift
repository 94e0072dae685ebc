import Foundation
import Testing

@testable import DBSKit

@Suite("Container round trips")
struct ContainerRoundTripTests {
    @discardableResult
    private func roundTrip(_ data: [UInt8], options: BackupOptions, pieceSize: Int = 7919) throws -> BackupSummary {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/backup.dbs"
        let summary = try Fixture.write(data, to: path, options: options, pieceSize: pieceSize)
        #expect(summary.plaintextBytes == UInt64(data.count))
        #expect(summary.verified == options.verifyAfterWrite)
        let (back, report) = try Fixture.read(path)
        #expect(back == data)
        #expect(report.isClean)
        // Nothing but the backup is left in the directory (the temp file was renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["backup.dbs"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? UInt64) == summary.fileBytes)
        return summary
    }

    @Test func emptyPayload() throws {
        let summary = try roundTrip([], options: Fixture.smallOptions())
        #expect(summary.chunks == 1)
        #expect(summary.stripes == 1)
    }

    @Test func oneByte() throws {
        try roundTrip([0x5A], options: Fixture.smallOptions())
    }

    @Test(arguments: [1, 2999, 3000, 3001, 4095, 4096, 4097, 12_345, 40_000])
    func oddSizesAcrossChunkAndStripeBoundaries(size: Int) throws {
        try roundTrip(Fixture.randomBytes(size, seed: UInt64(size)), options: Fixture.smallOptions(), pieceSize: 1000)
    }

    @Test func multiStripeCompressible() throws {
        let data = Fixture.compressibleBytes(300_000, seed: 7)
        let summary = try roundTrip(data, options: Fixture.smallOptions())
        #expect(summary.ciphertextBytes < UInt64(data.count) / 2)
        #expect(summary.stripes > 3)
    }

    @Test func multiStripeIncompressibleDefaultShape() throws {
        let data = Fixture.randomBytes(3 << 20, seed: 11)
        let summary = try roundTrip(data, options: Fixture.defaultShapeOptions(), pieceSize: 1 << 16)
        #expect(summary.stripes == 4)
        #expect(summary.chunks == 3)
    }

    @Test func singleCopy() throws {
        try roundTrip(Fixture.randomBytes(50_000, seed: 3), options: Fixture.smallOptions(copies: 1))
    }

    @Test func blake2bChecksums() throws {
        var options = Fixture.smallOptions()
        options.checksum = .blake2b_128
        try roundTrip(Fixture.randomBytes(20_000, seed: 4), options: options)
    }

    @Test func noCompression() throws {
        var options = Fixture.smallOptions()
        options.compression = .none
        let data = Fixture.compressibleBytes(30_000, seed: 5)
        let summary = try roundTrip(data, options: options)
        #expect(summary.ciphertextBytes > UInt64(data.count))
    }

    @Test func oneThreadAndNoVerify() throws {
        var options = Fixture.smallOptions(threads: 1)
        options.verifyAfterWrite = false
        try roundTrip(Fixture.randomBytes(25_000, seed: 6), options: options)
    }

    @Test func readerThreadCountDoesNotChangeTheOutput() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(70_000, seed: 8)
        try Fixture.write(data, to: path, options: Fixture.smallOptions())
        for threads in [1, 3, 8] {
            #expect(try Fixture.read(path, threads: threads).0 == data)
        }
    }

    @Test func wrongPassphraseIsDistinctAndProducesNothing() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        try Fixture.write(Fixture.randomBytes(10_000, seed: 9), to: path, options: Fixture.smallOptions())
        do {
            _ = try BackupReader(path: path, passphrase: Fixture.secure("not it"), threads: 2) as BackupReader
            Issue.record("a wrong passphrase opened the backup")
        } catch {
            guard case .wrongPassphrase = error else {
                Issue.record("expected wrongPassphrase, got \(error)")
                return
            }
            #expect(error.category == .wrongPassphrase)
        }
    }

    @Test func inspectShowsTheParametersWithoutAPassphrase() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        let summary = try Fixture.write(
            Fixture.randomBytes(10_000, seed: 10), to: path, options: Fixture.smallOptions())
        let info = try Fixture.info(path)
        #expect(info.backupID == summary.backupID)
        #expect(info.dataShards == 8 && info.parityShards == 4 && info.shardSize == 512)
        #expect(info.kdf == Fixture.fastKDF)
        #expect(info.copies == 2 && info.copyExtents.count == 2)
        #expect(info.heads == ["intact", "intact", "intact"])
        #expect(info.fileLength == info.expectedFileLength)
        #expect(info.stripeCount == summary.stripes)
        #expect(info.chunkCount == summary.chunks)
    }
}
