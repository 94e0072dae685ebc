import DBSIO
import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit

/// A restore places every entry or none; `salvage` places exactly the verified ones.
@Suite("File tree restore, all or nothing")
struct FileTreeAllOrNothingTests {
    static func entries() -> (entries: [TestEntry], damagedContent: [UInt8]) {
        var random = SeededGenerator(seed: 44)
        let big = random.bytes(2 * PayloadFormat.maxContentFrameSize + 9)
        func file(_ path: String, _ content: [UInt8]) -> TestEntry {
            TestEntry(
                metadata: EntryMetadata(
                    path: PathBytes(path), kind: .file, mode: 0o640, modificationTime: timestamp(3),
                    size: UInt64(content.count)), content: content)
        }
        let directory = TestEntry(
            metadata: EntryMetadata(
                path: "d", kind: .directory, mode: 0o750,
                modificationTime: timestamp(2)), content: [])
        let link = TestEntry(
            metadata: EntryMetadata(
                path: "d/link", kind: .symlink, mode: 0o777,
                modificationTime: timestamp(2), linkTarget: "a"), content: [])
        return ([directory, file("d/a", Array("first".utf8)), link, file("d/big", big), file("d/z", [7])], big)
    }

    static func damagedPayload() throws -> [UInt8] {
        let (entries, big) = Self.entries()
        var payload = try makePayload(entries)
        let at = try #require(firstIndex(of: Array(big.suffix(9)), in: payload))
        payload[at] ^= 0xFF
        return payload
    }

    @Test func aFailureLeavesNothingNewEvenInAnExistingDestination() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.write(work.sub("dest/mine"), [1])
        for destination in [work.sub("dest"), work.sub("new/deeper")] {
            #expect(throws: PayloadError.contentHashMismatch(path: "d/big")) {
                _ = try FileTreeWriter(destination: destination)
                    .restore(from: try PayloadReader(source: MemorySource(try Self.damagedPayload())))
            }
        }
        #expect(try relativePaths(work.path) == ["dest", "dest/mine"])
    }

    @Test func salvagePlacesExactlyTheVerifiedEntries() throws {
        let work = TemporaryDirectory()
        do {
            _ = try FileTreeWriter(destination: work.sub("dest"), salvage: true)
                .restore(from: try PayloadReader(source: MemorySource(try Self.damagedPayload())))
            Issue.record("a damaged payload restored")
        } catch let incomplete as RestoreIncomplete {
            #expect(incomplete.cause as? PayloadError == .contentHashMismatch(path: "d/big"))
            #expect(
                incomplete.lost == [LostEntry(path: "d/big", lostRanges: [LostRange(start: 0, end: 2 * 1 << 20 + 9)])])
            #expect(
                incomplete.placed.files == 1 && incomplete.placed.directories == 1 && incomplete.placed.symlinks == 1)
            #expect(!incomplete.readToTheEnd)
        }
        #expect(try relativePaths(work.sub("dest")) == ["d", "d/a", "d/link"])
        #expect(try String(contentsOfFile: work.sub("dest/d/a"), encoding: .utf8) == "first")
        #expect(try NodeDescription(work.sub("dest/d")).mode == 0o750, "a salvaged directory gets its mode")
        #expect(try NodeDescription(work.sub("dest/d/a")).mode == 0o640)
    }

    /// The named fallback (no O_TMPFILE, or more waiting files than descriptors):
    /// the same outcome, and no temporary or directory stays after a failure.
    @Test func theNamedFallbackLeavesNothingEither() throws {
        let work = TemporaryDirectory()
        var staging = try RestoreStaging(writer: FileTreeWriter(destination: work.sub("dest")), progress: nil)
        staging.unnamedSupported = false
        let reader = try PayloadReader(source: MemorySource(try Self.damagedPayload()))
        #expect(throws: PayloadError.contentHashMismatch(path: "d/big")) {
            while let entry = try reader.nextEntry() { try staging.stage(entry, from: reader) }
        }
        #expect(try relativePaths(work.path).contains { $0.contains(".dbs-restore-") }, "named temporaries were used")
        staging.discardAll()
        #expect(try relativePaths(work.path).isEmpty)
    }

    /// A write that fails on a writer lane (ENOSPC on a 1 MiB tmpfs, for real): the
    /// restore fails and nothing remains; a salvage places the files that were written
    /// and lists the one that was not. The failing file comes last, so it surfaces when
    /// the lanes are drained, not at some later entry (which depends on timing).
    @Test func aWriteFailingOnALaneLeavesNothingAndSalvageListsTheFile() throws {
        guard geteuid() == 0 else { return }  // mounting a tmpfs needs root (CI runs as root)
        let work = TemporaryDirectory()
        let mountPoint = work.sub("small")
        try TreeBuilder.mkdir(mountPoint)
        try #require(run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]) == 0, "mount a tmpfs")
        defer { _ = run(["umount", mountPoint]) }
        var random = SeededGenerator(seed: 45)
        let big = random.bytes(3 << 20)
        func file(_ path: String, _ content: [UInt8]) -> TestEntry {
            TestEntry(
                metadata: EntryMetadata(
                    path: PathBytes(path), kind: .file, mode: 0o640, modificationTime: timestamp(3),
                    size: UInt64(content.count)), content: content)
        }
        let smallFiles = (0..<6).map { _ in random.bytes(1000) }
        let payload = try makePayload(
            smallFiles.enumerated().map { file("f\($0.offset)", $0.element) } + [file("big", big)])
        let destination = mountPoint + "/dest"
        do {
            _ = try FileTreeWriter(destination: destination).restore(
                from: try PayloadReader(source: MemorySource(payload)))
            Issue.record("a restore onto a full file system succeeded")
        } catch let error as DataError {
            #expect(error == .io(path: destination + "/big", operation: "write", errno: ENOSPC))
        }
        #expect(try relativePaths(mountPoint).isEmpty, "nothing remains")

        do {
            _ = try FileTreeWriter(destination: destination, salvage: true)
                .restore(from: try PayloadReader(source: MemorySource(payload)))
            Issue.record("a salvage onto a full file system succeeded")
        } catch let incomplete as RestoreIncomplete {
            #expect(
                incomplete.cause as? DataError == .io(path: destination + "/big", operation: "write", errno: ENOSPC))
            // "big" fills the file system; a small file written on the other lane at
            // the same moment may find it full too: then it is lost, and listed, too.
            let lost = incomplete.lost.map(\.path.description)
            #expect(lost.last == "big" && incomplete.lost.last?.lostRanges == [LostRange(start: 0, end: 3 << 20)])
            for entry in incomplete.lost.dropLast() {
                #expect(entry.path.description.hasPrefix("f") && entry.lostRanges == [LostRange(start: 0, end: 1000)])
            }
            let placed = (0..<6).map { "f\($0)" }.filter { !lost.contains($0) }
            #expect(incomplete.placed.files == placed.count)
            #expect(try relativePaths(destination) == placed)
            for name in placed {
                #expect(
                    FileManager.default.contents(atPath: destination + "/" + name)
                        == Data(smallFiles[Int(name.dropFirst())!]))
            }
        }
    }

    /// Runs a command, returns its exit status.
    private func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
