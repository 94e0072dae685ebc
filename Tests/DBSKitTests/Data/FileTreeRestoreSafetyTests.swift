import DBSIO
import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit
@testable import DBSPayload

/// Hostile or conflicting payloads: nothing is ever written outside the
/// destination, nothing existing is replaced without `overwrite`, and a failed
/// entry leaves nothing half-written.
@Suite("File tree restore safety")
struct FileTreeRestoreSafetyTests {
    static func file(_ path: String, _ content: String = "x") -> TestEntry {
        TestEntry(
            metadata: EntryMetadata(
                path: PathBytes(path), kind: .file, mode: 0o644, modificationTime: timestamp(1),
                size: UInt64(content.utf8.count)),
            content: Array(content.utf8))
    }

    static func directory(_ path: String) -> TestEntry {
        TestEntry(
            metadata: EntryMetadata(
                path: PathBytes(path), kind: .directory, mode: 0o755, modificationTime: timestamp(1)))
    }

    static func symlink(_ path: String, to target: String) -> TestEntry {
        TestEntry(
            metadata: EntryMetadata(
                path: PathBytes(path), kind: .symlink, mode: 0o777, modificationTime: timestamp(1),
                linkTarget: PathBytes(target)))
    }

    static func restore(
        _ entries: [TestEntry], to destination: String, overwrite: Bool = false,
        dryRun: Bool = false
    ) throws -> RestoreSummary {
        let payload = try makePayload(entries, checksEntryPaths: false)
        return try FileTreeWriter(destination: destination, overwrite: overwrite, dryRun: dryRun)
            .restore(from: try PayloadReader(source: MemorySource(payload)))
    }

    @Test(arguments: [
        ("../x", "the path has a '..' component, which could leave the destination"),
        ("a/../../x", "the path has a '..' component, which could leave the destination"),
        ("/etc/dbs-escape-test", "the path is absolute"),
        ("a//b", "the path has an empty component"),
        ("a/./b", "the path has a '.' component"),
        ("a/", "the path has an empty component"),
        ("a\u{0}b", "the path contains a NUL byte"),
    ])
    func lexicalEscapesAreRefused(path: String, reason: String) throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        for kind in [EntryKind.file, .directory, .symlink] {
            var entry = Self.file(path)
            if kind == .directory { entry = Self.directory(path) }
            if kind == .symlink { entry = Self.symlink(path, to: "/tmp") }
            for dryRun in [false, true] {
                // Messages show the path escaped ("a\\x00b"), as `dbs list` does.
                #expect(throws: DataError.unsafePath(path: PathBytes(path).escaped, reason: reason)) {
                    _ = try Self.restore([Self.directory("a"), entry], to: work.sub("dest"), dryRun: dryRun)
                }
            }
        }
        // All or nothing: "a" was fine, but does not stay either.
        #expect(try relativePaths(work.path) == ["dest"])
        #expect(!FileManager.default.fileExists(atPath: "/etc/dbs-escape-test"))
    }

    @Test func symlinkRestoredEarlierIsNeverPassedThrough() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("outside"))
        for dryRun in [false, true] {
            let destination = work.sub(dryRun ? "dry" : "dest")
            #expect(
                throws: DataError.unsafePath(
                    path: "link/file", reason: "it passes through the symlink 'link' restored before it")
            ) {
                _ = try Self.restore(
                    [Self.symlink("link", to: work.sub("outside")), Self.file("link/file")],
                    to: destination, dryRun: dryRun)
            }
            #expect(
                throws: DataError.unsafePath(
                    path: "link/sub", reason: "it passes through the symlink 'link' restored before it")
            ) {
                _ = try Self.restore(
                    [Self.symlink("link", to: "/tmp"), Self.directory("link/sub"), Self.file("link/sub/file")],
                    to: destination + "-2", dryRun: dryRun)
            }
        }
        #expect(try relativePaths(work.sub("outside")).isEmpty)
        #expect(try relativePaths(work.path) == ["outside"], "all or nothing: the link does not stay either")
    }

    @Test func existingSymlinkInTheDestinationIsNeverPassedThrough() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("outside"))
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.symlink(work.sub("outside"), at: work.sub("dest/planted"))
        for overwrite in [false, true] {
            #expect(
                throws: DataError.unsafePath(
                    path: "planted/file", reason: "'planted' is a symlink, which a restore never passes through")
            ) {
                _ = try Self.restore([Self.file("planted/file")], to: work.sub("dest"), overwrite: overwrite)
            }
        }
        #expect(try relativePaths(work.sub("outside")).isEmpty)
    }

    @Test func existingFilesAreKeptUnlessOverwriting() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.write(work.sub("dest/f"), Array("old".utf8))
        try TreeBuilder.symlink("f", at: work.sub("dest/l"))
        for entry in [Self.file("f", "new"), Self.symlink("f", to: "elsewhere"), Self.file("l", "new")] {
            let path = entry.metadata.path.description
            #expect(throws: DataError.alreadyExists(path: work.sub("dest/" + path))) {
                _ = try Self.restore([entry], to: work.sub("dest"))
            }
            #expect(throws: DataError.alreadyExists(path: work.sub("dest/" + path))) {
                _ = try Self.restore([entry], to: work.sub("dest"), dryRun: true)
            }
        }
        #expect(try String(contentsOfFile: work.sub("dest/f"), encoding: .utf8) == "old")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: work.sub("dest/l")) == "f")

        // Overwriting replaces a symlink itself, never the file it points to.
        _ = try Self.restore([Self.file("l", "through?")], to: work.sub("dest"), overwrite: true)
        #expect(try String(contentsOfFile: work.sub("dest/f"), encoding: .utf8) == "old")
        #expect(try String(contentsOfFile: work.sub("dest/l"), encoding: .utf8) == "through?")
        #expect(try NodeDescription(work.sub("dest/l")).linkTarget == nil)
        _ = try Self.restore([Self.file("f", "new")], to: work.sub("dest"), overwrite: true)
        #expect(try String(contentsOfFile: work.sub("dest/f"), encoding: .utf8) == "new")

        // A directory is never replaced by a file, even when overwriting.
        try TreeBuilder.mkdir(work.sub("dest/dir"))
        try TreeBuilder.write(work.sub("dest/dir/keep"), [1])
        #expect(throws: DataError.cannotReplace(path: work.sub("dest/dir"), reason: "a directory is in the way")) {
            _ = try Self.restore([Self.file("dir", "new")], to: work.sub("dest"), overwrite: true)
        }
        #expect(FileManager.default.fileExists(atPath: work.sub("dest/dir/keep")))
        #expect(try leftoverTemporaries(work.path).isEmpty)
    }

    @Test func existingDirectoriesAreMergedInto() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.mkdir(work.sub("dest/d"))
        try TreeBuilder.write(work.sub("dest/d/mine"), [9])
        let summary = try Self.restore([Self.directory("d"), Self.file("d/theirs")], to: work.sub("dest"))
        #expect(summary.files == 1)
        #expect(try relativePaths(work.sub("dest")) == ["d", "d/mine", "d/theirs"])
    }

    /// Every entry waits until the whole payload is verified; an entry at or under a
    /// waiting one meets it as if it had been placed already.
    @Test func waitingEntriesKeepFileByFileSemantics() throws {
        let work = TemporaryDirectory()
        // The same path twice: the second is refused, and (all or nothing) nothing stays.
        #expect(throws: DataError.alreadyExists(path: work.sub("one/x"))) {
            _ = try Self.restore([Self.file("x", "first"), Self.file("x", "second")], to: work.sub("one"))
        }
        #expect(!FileManager.default.fileExists(atPath: work.sub("one")))
        // ... and replaces it with overwrite.
        _ = try Self.restore([Self.file("x", "first"), Self.file("x", "second")], to: work.sub("two"), overwrite: true)
        #expect(try String(contentsOfFile: work.sub("two/x"), encoding: .utf8) == "second")
        #expect(try relativePaths(work.sub("two")) == ["x"])
        // A path through a file restored just before is not a directory.
        #expect(throws: DataError.cannotReplace(path: "a/b", reason: "'a' is not a directory")) {
            _ = try Self.restore([Self.file("a"), Self.file("a/b")], to: work.sub("three"))
        }
        #expect(!FileManager.default.fileExists(atPath: work.sub("three")))
        // A directory where a waiting file is, and a file where a waiting directory is.
        _ = try Self.restore(
            [Self.file("d", "file first"), Self.directory("d"), Self.file("d/in", "in")],
            to: work.sub("five"), overwrite: true)
        #expect(try String(contentsOfFile: work.sub("five/d/in"), encoding: .utf8) == "in")
        #expect(throws: DataError.cannotReplace(path: work.sub("six/d"), reason: "a directory is in the way")) {
            _ = try Self.restore([Self.directory("d"), Self.file("d", "no")], to: work.sub("six"), overwrite: true)
        }
        // Many files in two directories: all in place, byte for byte.
        let count = 300
        let entries =
            [Self.directory("p"), Self.directory("q")]
            + (0..<count).map { Self.file(($0 % 2 == 0 ? "p/" : "q/") + "f\($0)", "content \($0)") }
        let summary = try Self.restore(entries, to: work.sub("four"))
        #expect(summary.files == count)
        for i in [0, 1, 128, count - 1] {
            let path = work.sub("four/" + (i % 2 == 0 ? "p/" : "q/") + "f\(i)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "content \(i)")
        }
        #expect(try relativePaths(work.sub("four")).count == count + 2)
        #expect(try leftoverTemporaries(work.path).isEmpty)
    }

    @Test func failedEntryLeavesNoTemporaryFile() throws {
        let work = TemporaryDirectory()
        var random = SeededGenerator(seed: 5)
        let content = random.bytes(3 * PayloadFormat.maxContentFrameSize + 7)
        let big = TestEntry(
            metadata: EntryMetadata(
                path: "d/big", kind: .file, mode: 0o644, modificationTime: timestamp(1),
                size: UInt64(content.count)),
            content: content)
        var payload = try makePayload([Self.directory("d"), Self.file("d/first", "ok"), big])
        // Damage the last chunk, so that three chunks are on disk before the hash fails.
        let at = try #require(firstIndex(of: Array(content.suffix(7)), in: payload))
        payload[at] ^= 0xFF
        #expect(throws: PayloadError.contentHashMismatch(path: "d/big")) {
            _ = try FileTreeWriter(destination: work.sub("dest"))
                .restore(from: try PayloadReader(source: MemorySource(payload)))
        }
        // All or nothing: "d/first" verified, but does not take its name either.
        #expect(!FileManager.default.fileExists(atPath: work.sub("dest")))
        #expect(try relativePaths(work.path).isEmpty)
    }

    @Test func failedWriteIsAnInputOutputErrorAndCleansUp() throws {
        // A read-only destination directory fails the temporary file's creation for
        // non-root users; for root, a file in the way of a parent directory.
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.write(work.sub("dest/notadir"), [1])
        #expect(throws: DataError.cannotReplace(path: "notadir/f", reason: "'notadir' is not a directory")) {
            _ = try Self.restore([Self.file("notadir/f")], to: work.sub("dest"))
        }
        if geteuid() != 0 {
            try TreeBuilder.mkdir(work.sub("ro"), mode: 0o555)
            #expect(throws: DataError.io(path: work.sub("ro/f"), operation: "create temporary file for", errno: EACCES))
            {
                _ = try Self.restore([Self.file("f")], to: work.sub("ro"))
            }
        }
        #expect(try leftoverTemporaries(work.path).isEmpty)
    }

    @Test func fullDiskIsAnInputOutputErrorNamingThePath() throws {
        // A 1 MiB tmpfs needs root (and a kernel that lets this process mount);
        // the CLI's end-to-end tests cover `ulimit -f` for everyone else.
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("small"))
        guard mount("tmpfs", work.sub("small"), "tmpfs", 0, "size=1m") == 0 else { return }
        defer { umount2(work.sub("small"), 0) }
        var random = SeededGenerator(seed: 8)
        let content = random.bytes(3 << 20)
        let entry = TestEntry(
            metadata: EntryMetadata(
                path: "big", kind: .file, mode: 0o644, modificationTime: timestamp(1),
                size: UInt64(content.count)),
            content: content)
        do {
            _ = try Self.restore([Self.file("first", "fits"), entry], to: work.sub("small"))
            Issue.record("3 MiB fit in a 1 MiB file system")
        } catch let error as DataError {
            #expect(error == .io(path: work.sub("small/big"), operation: "write", errno: ENOSPC))
            #expect(error.isInputOutput)
            #expect(error.description.contains("No space left on device"))
        }
        #expect(try relativePaths(work.sub("small")).isEmpty, "all or nothing: 'first' is not placed either")
    }

    @Test func missingParentsAreCreatedPlainly() throws {
        let work = TemporaryDirectory()
        let summary = try Self.restore([Self.file("x/y/z", "deep")], to: work.sub("new/dest"))
        #expect(summary.files == 1)
        #expect(try String(contentsOfFile: work.sub("new/dest/x/y/z"), encoding: .utf8) == "deep")
        // The umask read without setting it: umask(2) would race the other tests.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
        let mask = try #require(UInt32(line.split(separator: "\t").last ?? "", radix: 8))
        #expect(try NodeDescription(work.sub("new/dest/x/y")).mode == 0o755 & ~mask)
    }
}
