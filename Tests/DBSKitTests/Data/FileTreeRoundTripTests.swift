import DBSIO
import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit

@Suite("File tree backup and restore")
struct FileTreeRoundTripTests {
    /// A tree with every kind the format keeps: modes from 0600 to setuid, times
    /// with nanoseconds, absolute, relative and dangling symlinks, empty files and
    /// directories, unicode names, a read-only directory, multi-chunk content.
    static func makeTree(in root: String) throws {
        var random = SeededGenerator(seed: 21)
        try TreeBuilder.mkdir(root)
        try TreeBuilder.write(root + "/a.txt", Array("alpha\n".utf8))
        try TreeBuilder.write(root + "/empty", [])
        try TreeBuilder.write(root + "/secret", Array("s".utf8), mode: 0o600)
        try TreeBuilder.write(root + "/setuid-tool", Array("#!/bin/sh\n".utf8), mode: 0o4755)
        try TreeBuilder.write(root + "/big.bin", random.bytes(3 * PayloadFormat.maxContentFrameSize + 12_345))
        try TreeBuilder.mkdir(root + "/bin")
        try TreeBuilder.write(root + "/bin/tool", Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try TreeBuilder.mkdir(root + "/empty-dir", mode: 0o700)
        try TreeBuilder.mkdir(root + "/ünïcødé ✓")
        try TreeBuilder.write(root + "/ünïcødé ✓/файл 📦.txt", Array("юникод".utf8))
        try TreeBuilder.symlink("/etc/hostname", at: root + "/absolute-link")
        try TreeBuilder.symlink("a.txt", at: root + "/relative-link")
        try TreeBuilder.symlink("../nowhere/at/all", at: root + "/dangling-link")
        try TreeBuilder.symlink("bin", at: root + "/dir-link")
        try TreeBuilder.mkdir(root + "/read-only")
        try TreeBuilder.write(root + "/read-only/inside", Array("ro".utf8), mode: 0o444)
        try #require(chmod(root + "/read-only", 0o555) == 0)

        // Times last, directories after their contents, each with its own nanoseconds.
        let paths = try relativePaths(root)
        for (index, path) in paths.enumerated() {
            try TreeBuilder.setTime(root + "/" + path, 1_600_000_000 + index * 1000, 123_456_789 + index)
        }
        for (index, path) in paths.enumerated().reversed() {
            var status = stat()
            lstat(root + "/" + path, &status)
            if status.st_mode & 0o170000 == 0o040000 {
                try TreeBuilder.setTime(root + "/" + path, 1_500_000_000 + index, 987_654_321 - index)
            }
        }
        try TreeBuilder.setTime(root, 1_400_000_000, 1)
    }

    @Test func treeRestoresByteForByteWithModesTimesAndLinks() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(in: work.sub("src"))
        try TreeBuilder.write(work.sub("lone file.txt"), Array("by itself".utf8), mode: 0o640)
        try TreeBuilder.setTime(work.sub("lone file.txt"), 1_234_567_890, 5)

        let sink = MemorySink()
        let writer = try PayloadWriter(sink: sink, metadata: [:])
        var backupProgress: [FileTreeProgress] = []
        try FileTreeReader(inputs: [work.sub("src/"), work.sub("lone file.txt")])
            .write(to: writer) { backupProgress.append($0) }
        let written = try writer.finish()
        var restoreProgress: [FileTreeProgress] = []
        let summary = try FileTreeWriter(destination: work.sub("out"))
            .restore(from: try PayloadReader(source: MemorySource(sink.bytes))) { restoreProgress.append($0) }
        #expect(backupProgress.last?.entries == written.entryCount)
        #expect(backupProgress.last?.bytes == written.contentBytes)
        #expect(restoreProgress.last?.entries == written.entryCount)
        #expect(restoreProgress.last?.bytes == written.contentBytes)
        #expect(summary.bytes == written.contentBytes)
        #expect(restoreProgress.count > Int(written.entryCount))  // per chunk too

        try expectSameTree(work.sub("src"), work.sub("out/src"))
        #expect(try NodeDescription(work.sub("out/lone file.txt")) == NodeDescription(work.sub("lone file.txt")))
        #expect(try sameContent(work.sub("out/lone file.txt"), work.sub("lone file.txt")))
        #expect(try relativePaths(work.sub("out")).filter { !$0.contains("/") } == ["lone file.txt", "src"])
        #expect(summary.files == 9)
        #expect(summary.directories == 5)
        #expect(summary.symlinks == 4)
        #expect(try leftoverTemporaries(work.sub("out")).isEmpty)
    }

    @Test func entriesAreRelativeAndSorted() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("d"))
        for name in ["b", "a", "C", "é", "a b"] { try TreeBuilder.write(work.sub("d/" + name), []) }
        try TreeBuilder.mkdir(work.sub("d/sub"))
        try TreeBuilder.write(work.sub("d/sub/z"), [1])
        try TreeBuilder.write(work.sub("z-file"), [2])
        let entries = try readPayload(try payloadOf([work.sub("z-file"), work.sub("d")]))
        #expect(
            entries.map(\.metadata.path) == ["d", "d/C", "d/a", "d/a b", "d/b", "d/sub", "d/sub/z", "d/é", "z-file"])
        #expect(entries.last?.content == [2])
    }

    @Test func socketsAreSkippedWithAWarning() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("d"))
        let socketPath = work.sub("d/socket")
        let listener = try #require(UnixSocket(at: socketPath))
        defer { withExtendedLifetime(listener) {} }
        try TreeBuilder.write(work.sub("d/file"), [7])
        var warnings: [FileTreeWarning] = []
        let entries = try readPayload(try payloadOf([work.sub("d")], warnings: { warnings.append($0) }))
        #expect(entries.map(\.metadata.path) == ["d", "d/file"])
        #expect(warnings == [FileTreeWarning(path: PathBytes(socketPath), message: "it is a socket")])
    }

    @Test func inputErrorsNameThePath() throws {
        let work = TemporaryDirectory()
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        let missing = work.sub("does-not-exist")
        #expect(throws: DataError.missingInput(path: missing)) {
            try FileTreeReader(inputs: [missing]).write(to: writer)
        }
        #expect(DataError.missingInput(path: missing).isInputOutput)

        try TreeBuilder.mkdir(work.sub("x"))
        try TreeBuilder.mkdir(work.sub("y"))
        try TreeBuilder.mkdir(work.sub("y/x"))
        #expect(throws: DataError.duplicateEntry(path: "x")) {
            try FileTreeReader(inputs: [work.sub("x"), work.sub("y/x")]).write(to: writer)
        }
        #expect(
            throws: DataError.invalidInput(
                path: "/", reason: "the root directory has no name to store it under; back up its contents instead")
        ) {
            try FileTreeReader(inputs: ["/"]).write(to: writer)
        }
    }

    @Test func unreadableFileIsAnInputOutputError() throws {
        // Root reads through mode bits, so the EACCES cases run only for other users;
        // a path through a regular file fails for everyone.
        let work = TemporaryDirectory()
        try TreeBuilder.write(work.sub("f"), [1, 2, 3], mode: 0o000)
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        if geteuid() != 0 {
            #expect(throws: DataError.io(path: work.sub("f"), operation: "open", errno: EACCES)) {
                try FileTreeReader(inputs: [work.sub("f")]).write(to: writer)
            }
        }
        try TreeBuilder.mkdir(work.sub("d"), mode: 0o000)
        if geteuid() != 0 {
            #expect(throws: DataError.io(path: work.sub("d"), operation: "open directory", errno: EACCES)) {
                try FileTreeReader(inputs: [work.sub("d")]).write(to: writer)
            }
        }
        #expect(throws: DataError.io(path: work.sub("f/x"), operation: "stat", errno: ENOTDIR)) {
            try FileTreeReader(inputs: [work.sub("f/x")]).write(to: writer)
        }
        let error = DataError.io(path: "/x", operation: "read", errno: EIO)
        #expect(error.isInputOutput)
        #expect(error.description == "read '/x': Input/output error")
    }

    @Test func dryRunVerifiesButWritesNothing() throws {
        let work = TemporaryDirectory()
        try Self.makeTree(in: work.sub("src"))
        let payload = try payloadOf([work.sub("src")])
        let summary = try FileTreeWriter(destination: work.sub("out"), dryRun: true)
            .restore(from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.entries == 17)
        #expect(summary.bytes > UInt64(3 * PayloadFormat.maxContentFrameSize))
        #expect(!FileManager.default.fileExists(atPath: work.sub("out")))
    }

    @Test func streamedFilesAndRecordsRestoreAsFiles() throws {
        let work = TemporaryDirectory()
        let input = Array(repeating: UInt8(ascii: "z"), count: PayloadFormat.maxContentFrameSize + 3)
        let payload = try makePayload([
            TestEntry(
                metadata: EntryMetadata(
                    path: "from-stdin", kind: .file, mode: 0o640,
                    modificationTime: timestamp(1_700_000_000, 5), isStreamed: true),
                content: input),
            TestEntry(
                metadata: EntryMetadata(
                    path: "shop.Order.jsonl", kind: .records, mode: 0,
                    modificationTime: timestamp(1_700_000_001), isStreamed: true,
                    modelLabel: "shop.Order"),
                content: Array("{\"pk\": 1}\n".utf8)),
        ])
        let summary = try FileTreeWriter(destination: work.sub("out"))
            .restore(from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.files == 1)
        #expect(summary.records == 1)
        #expect(summary.bytes == UInt64(input.count + 10))
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: work.sub("out/from-stdin")))) == input)
        let stdinNode = try NodeDescription(work.sub("out/from-stdin"))
        #expect(stdinNode.mode == 0o640 && stdinNode.seconds == 1_700_000_000 && stdinNode.nanoseconds == 5)
        #expect(try String(contentsOfFile: work.sub("out/shop.Order.jsonl"), encoding: .utf8) == "{\"pk\": 1}\n")
        #expect(try NodeDescription(work.sub("out/shop.Order.jsonl")).mode == 0o600)
    }
}
