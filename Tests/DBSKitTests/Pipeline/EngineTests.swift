import DBSSystem
import Foundation
import Testing

@testable import DBSKit

/// The engine's whole-file operations (`Engine.backUp`, `OpenedBackup`), the ones the
/// CLI and the C ABI both run, on real files in a temporary directory.
@Suite struct EngineTests {
    /// A small tree: two files (one empty), a directory, a symlink.
    static func sampleTree(in directory: TemporaryDirectory) throws -> (root: String, bytes: UInt64) {
        let root = directory.sub("tree")
        try TreeBuilder.mkdir(root)
        try TreeBuilder.mkdir(root + "/sub")
        let content = Fixture.randomBytes(20_000, seed: 14)
        try TreeBuilder.write(root + "/sub/data.bin", content)
        try TreeBuilder.write(root + "/empty", [])
        try TreeBuilder.symlink("sub/data.bin", at: root + "/link")
        return (root, UInt64(content.count))
    }

    static let key = Fixture.secure(Fixture.passphrase)

    @Test func backUpVerifyAndRestoreAFileTree() throws {
        let directory = TemporaryDirectory()
        let (root, contentBytes) = try Self.sampleTree(in: directory)
        let file = directory.sub("tree.dbs")
        var written = 0
        let backup = try Engine.backUp(
            .paths([root]), to: file, passphrase: Self.key,
            options: Fixture.smallOptions(), progress: { written += $0 })
        // tree, tree/sub, tree/sub/data.bin, tree/empty, tree/link
        #expect(backup.contents.entryCount == 5)
        #expect(backup.contents.contentBytes == contentBytes)
        #expect(backup.file.path == file && backup.file.verified)
        #expect(backup.warnings.isEmpty)
        #expect(UInt64(written) == backup.file.plaintextBytes)
        #expect(FileManager.default.fileExists(atPath: file))

        let contents = try OpenedBackup(path: file, passphrase: Self.key, threads: 2).verifyContents()
        #expect(contents == backup.contents)

        let opened = try OpenedBackup(path: file, passphrase: Self.key, threads: 2)
        var read = 0
        let restored = try opened.restore(
            into: FileTreeWriter(destination: directory.sub("out")),
            progress: { read += $0 })
        #expect(restored.entries == 5 && restored.bytes == contentBytes)
        // What opening read (the payload's header) is counted too.
        #expect(UInt64(read) == backup.file.plaintextBytes)
        #expect(opened.repairReport.isClean)
        for path in ["", "/sub", "/sub/data.bin", "/empty", "/link"] {
            #expect(try NodeDescription(directory.sub("out/tree") + path) == NodeDescription(root + path))
        }
        #expect(Fixture.bytes(of: directory.sub("out/tree/sub/data.bin")) == Fixture.bytes(of: root + "/sub/data.bin"))
    }

    @Test func entriesTheCallerWritesAndItsMetadata() throws {
        let directory = TemporaryDirectory()
        let file = directory.sub("one.dbs")
        let content = Array("one entry".utf8)
        let backup = try Engine.backUp(
            .entries { payload in
                try payload.beginEntry(
                    EntryMetadata(
                        path: PathBytes("note.txt"), kind: .file, mode: 0o600,
                        modificationTime: FileTimestamp(seconds: 0, nanoseconds: 0),
                        size: UInt64(content.count)))
                try payload.writeContent(content)
                try payload.endEntry()
            }, to: file, passphrase: Self.key, options: Fixture.smallOptions(), metadata: ["tool": "engine test"])
        #expect(backup.contents.entryCount == 1 && backup.contents.contentBytes == UInt64(content.count))

        let opened = try OpenedBackup(path: file, passphrase: Self.key, threads: 2)
        #expect(opened.payload.metadata["tool"] == "engine test")
        let restored = try opened.restore(into: FileTreeWriter(destination: directory.sub("out")))
        #expect(restored.files == 1)
        #expect(Fixture.bytes(of: directory.sub("out/note.txt")) == content)
    }

    @Test func aFailedBackupLeavesNothing() throws {
        let directory = TemporaryDirectory()
        let file = directory.sub("never.dbs")
        #expect(throws: DataError.missingInput(path: directory.sub("missing"))) {
            try Engine.backUp(
                .paths([directory.sub("missing")]), to: file, passphrase: Self.key,
                options: Fixture.smallOptions())
        }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try Engine.backUp(
                .entries { _ in throw Refused() }, to: file, passphrase: Self.key,
                options: Fixture.smallOptions())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func aWrongPassphraseFailsOnOpeningBeforeTheDirectoryIsTouched() throws {
        let directory = TemporaryDirectory()
        let (root, _) = try Self.sampleTree(in: directory)
        let file = directory.sub("tree.dbs")
        _ = try Engine.backUp(.paths([root]), to: file, passphrase: Self.key, options: Fixture.smallOptions())
        do {
            _ = try OpenedBackup(path: file, passphrase: Fixture.secure("not it"), threads: 2)
            Issue.record("a wrong passphrase opened the backup")
        } catch let error as BackupError {
            #expect(error.category == .wrongPassphrase)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.sub("out")))
    }

    @Test func verifyingDamageBeyondRepairKeepsTheReport() throws {
        let directory = TemporaryDirectory()
        let file = directory.sub("one-copy.dbs")
        let content = Fixture.randomBytes(30_000, seed: 15)
        try TreeBuilder.write(directory.sub("data.bin"), content)
        _ = try Engine.backUp(
            .paths([directory.sub("data.bin")]), to: file, passphrase: Self.key,
            options: Fixture.smallOptions(copies: 1))
        // Every byte of the second half of the file's stripes zeroed: more shards lost
        // than one copy's parity rebuilds.
        let info = try Fixture.info(file)
        let copy = info.copyExtents[0]
        Fixture.mutate(file) { bytes in
            let start = Int(copy.offset) + Int(copy.length) / 2
            for i in start..<(Int(copy.offset) + Int(copy.length)) { bytes[i] = 0 }
        }
        do {
            _ = try OpenedBackup(path: file, passphrase: Self.key, threads: 2).verifyContents()
            Issue.record("damage beyond repair verified")
        } catch let error as BackupError {
            #expect(error.category == .damaged)
            guard case .damagedBeyondRepair(let report) = error else {
                Issue.record("expected damagedBeyondRepair, got \(error)")
                return
            }
            #expect(!report.lostShards.isEmpty)
        }
    }

    /// Verify-after-write that finds damage beyond repair keeps the restore's report
    /// (which stripes, which shards), not only its text.
    @Test func aReadBackBeyondRepairKeepsItsReport() throws {
        let directory = TemporaryDirectory()
        let destination = directory.sub("b.dbs")
        let writer = try BackupWriter(destination: destination, passphrase: Self.key, options: Fixture.smallOptions())
        try writer.write(Fixture.randomBytes(200_000, seed: 4))
        try writer.drainPipeline()
        Fixture.mutate(try #require(writer.temporaryPath)) { bytes in
            for i in 9000..<min(bytes.count, 40_000) { bytes[i] ^= 0xFF }
        }
        do {
            _ = try writer.finish()
            Issue.record("a damaged file verified")
        } catch {
            #expect(error.category == .damaged)
            guard case .readBackFailed(.damagedBeyondRepair(let report)) = error else {
                Issue.record("expected the read-back's damagedBeyondRepair, got \(error)")
                return
            }
            #expect(!report.lostShards.isEmpty)
            #expect(
                error.description.hasPrefix(
                    "verify-after-write failed, nothing was written to the destination: "
                        + "the backup is damaged beyond repair: "))
        }
        #expect(!FileManager.default.fileExists(atPath: destination))
    }
}
