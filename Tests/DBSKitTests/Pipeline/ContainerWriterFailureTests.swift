import DBSSystem
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// A failed or abandoned backup leaves nothing at the destination and no temp file.
@Suite("Container writer failures")
struct ContainerWriterFailureTests {
    private func entries(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    @Test func abortLeavesNothing() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let writer = try BackupWriter(
            destination: dir + "/b.dbs", passphrase: Fixture.secure("p"),
            options: Fixture.smallOptions())
        try writer.write(Fixture.randomBytes(50_000, seed: 1))
        // Nothing but, where there is no O_TMPFILE, the named temp file.
        #expect(try entries(dir).allSatisfy { $0.hasPrefix(".b.dbs.tmp-") })
        writer.abort()
        #expect(try entries(dir).isEmpty)
        #expect(throws: BackupError.self) { try writer.write([1, 2, 3]) }
        #expect(throws: BackupError.self) { try writer.finish() }
    }

    @Test func droppingAnUnfinishedWriterLeavesNothing() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        do {
            let writer = try BackupWriter(
                destination: dir + "/b.dbs", passphrase: Fixture.secure("p"),
                options: Fixture.smallOptions())
            try writer.write(Fixture.randomBytes(20_000, seed: 2))
        }
        #expect(try entries(dir).isEmpty)
    }

    @Test func existingDestinationIsRefusedUnlessOverwrite() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        Fixture.store([1, 2, 3], at: path)
        do {
            _ = try BackupWriter(destination: path, passphrase: Fixture.secure("p"), options: Fixture.smallOptions())
            Issue.record("an existing destination was accepted")
        } catch {
            guard case .destinationExists = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(error.category == .inputOutput)
        }
        #expect(Fixture.bytes(of: path) == [1, 2, 3])
        var options = Fixture.smallOptions()
        options.overwrite = true
        let data = Fixture.randomBytes(5000, seed: 3)
        try Fixture.write(data, to: path, options: options)
        #expect(try Fixture.read(path).0 == data)
        #expect(try entries(dir) == ["b.dbs"])
    }

    @Test func missingDirectoryIsAnIOError() throws {
        do {
            _ = try BackupWriter(
                destination: "/nonexistent-dbs-dir/b.dbs", passphrase: Fixture.secure("p"),
                options: Fixture.smallOptions())
            Issue.record("a missing directory was accepted")
        } catch {
            guard case .io(let path, _, let code) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(path.hasPrefix("/nonexistent-dbs-dir"))
            #expect(code == ENOENT)
            #expect(error.category == .inputOutput)
        }
    }

    /// The temp file is damaged behind the writer's back before `finish`: verify-after-
    /// write, or without it copy B's read-back, must catch it, and nothing may appear.
    @Test(arguments: [true, false])
    func damageBeforeFinishFailsAndLeavesNothing(verifyAfterWrite: Bool) throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        var options = Fixture.smallOptions()
        // Without the verify pass, copy B's read-back check must catch it.
        options.verifyAfterWrite = verifyAfterWrite
        let writer = try BackupWriter(destination: dir + "/b.dbs", passphrase: Fixture.secure("p"), options: options)
        try writer.write(Fixture.randomBytes(200_000, seed: 4))
        try writer.drainPipeline()
        let temp = try #require(writer.temporaryPath)
        Fixture.mutate(temp) { bytes in
            for i in 9000..<min(bytes.count, 40_000) { bytes[i] ^= 0xFF }
        }
        #expect(throws: BackupError.self) { try writer.finish() }
        #expect(try entries(dir).isEmpty)
    }

    /// Verify-after-write's check of copy B (`StripeRecovery.isIntact`): true for every
    /// stripe of both copies of a fresh backup; false for exactly the stripe whose copy
    /// B has a flipped shard byte, or a flipped header byte (a header the block code
    /// corrects is not "as written"), and for a stripe cut off by truncation.
    @Test func copyReadBackCheckFindsEachDamage() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        try Fixture.write(Fixture.randomBytes(60_000, seed: 12), to: path, options: Fixture.smallOptions())
        let info = try Fixture.info(path)
        let layout = ContainerLayout(
            dataShards: info.dataShards, parityShards: info.parityShards,
            shardSize: info.shardSize, copies: info.copies, stripeCount: info.stripeCount)
        #expect(layout.stripeCount >= 4)
        func intact() throws -> [[Bool]] {
            let file = try PositionedFile.openForReading(path)
            let located = try ContainerLocator.locate(file)
            let recovery = try StripeRecovery(
                file: file, fileLength: try file.size(), descriptor: located.descriptor,
                layout: layout)
            return (0..<2).map { copy in (0..<layout.stripeCount).map { recovery.isIntact(copy: copy, stripe: $0) } }
        }
        #expect(try intact().allSatisfy { $0.allSatisfy { $0 } })
        let all = [Bool](repeating: true, count: Int(layout.stripeCount))
        func expecting(badStripe: Int) -> [[Bool]] {
            var b = all
            b[badStripe] = false
            return [all, b]
        }
        Fixture.mutate(path) { $0[Int(layout.shardOffset(copy: 1, stripe: 1, shard: 5)) + 77] ^= 0x10 }
        #expect(try intact() == expecting(badStripe: 1))
        Fixture.mutate(path) { $0[Int(layout.shardOffset(copy: 1, stripe: 1, shard: 5)) + 77] ^= 0x10 }
        Fixture.mutate(path) { $0[Int(layout.recordOffset(copy: 1, stripe: 2)) + 40] ^= 0x01 }
        #expect(try intact() == expecting(badStripe: 2))
        Fixture.mutate(path) { $0[Int(layout.recordOffset(copy: 1, stripe: 2)) + 40] ^= 0x01 }
        let last = Int(layout.stripeCount) - 1
        Fixture.mutate(path) {
            $0.removeLast($0.count - Int(layout.shardOffset(copy: 1, stripe: UInt64(last), shard: 3)))
        }
        #expect(try intact()[1] == expecting(badStripe: last)[1])
    }

    @Test func invalidOptionsNameTheValue() throws {
        let cases: [(BackupOptions, String)] = [
            (BackupOptions(copies: 3), "copies 3"),
            (BackupOptions(dataShards: 250, parityShards: 16), "250 data + 16 parity"),
            (BackupOptions(shardSize: 3), "shard size 3"),
            (BackupOptions(threads: 0), "threads 0"),
            (BackupOptions(chunkSize: 0), "chunk size 0"),
            (BackupOptions(kdf: KDFParameters(timeCost: 0, memoryKiB: 8192, parallelism: 1)), "timeCost 0"),
        ]
        for (options, fragment) in cases {
            do {
                _ = try options.validated()
                Issue.record("\(fragment) was accepted")
            } catch {
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
    }
}
