import Foundation
import Testing
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
        let writer = try BackupWriter(destination: dir + "/b.dbs", passphrase: Fixture.secure("p"),
                                      options: Fixture.smallOptions())
        try writer.write(Fixture.randomBytes(50_000, seed: 1))
        #expect(try entries(dir).count == 1) // the temp file
        writer.abort()
        #expect(try entries(dir).isEmpty)
        #expect(throws: BackupError.self) { try writer.write([1, 2, 3]) }
        #expect(throws: BackupError.self) { try writer.finish() }
    }

    @Test func droppingAnUnfinishedWriterLeavesNothing() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        do {
            let writer = try BackupWriter(destination: dir + "/b.dbs", passphrase: Fixture.secure("p"),
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
            guard case .destinationExists = error else { Issue.record("got \(error)"); return }
            #expect(error.exitCode == 5)
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
            _ = try BackupWriter(destination: "/nonexistent-dbs-dir/b.dbs", passphrase: Fixture.secure("p"),
                                 options: Fixture.smallOptions())
            Issue.record("a missing directory was accepted")
        } catch {
            guard case .io(let path, _, let code) = error else { Issue.record("got \(error)"); return }
            #expect(path.hasPrefix("/nonexistent-dbs-dir/"))
            #expect(code == ENOENT)
            #expect(error.exitCode == 5)
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
        let temp = dir + "/" + (try entries(dir)).first!
        Fixture.mutate(temp) { bytes in
            for i in 9000..<min(bytes.count, 40_000) { bytes[i] ^= 0xFF }
        }
        #expect(throws: BackupError.self) { try writer.finish() }
        #expect(try entries(dir).isEmpty)
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
