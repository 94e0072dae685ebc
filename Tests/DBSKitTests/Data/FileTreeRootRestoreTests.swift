import DBSIO
import DBSSystem
import Foundation
import Testing

@testable import DBSKit

/// What a restore run as root (CI runs as root) must never do: hand out
/// set-user-ID or set-group-ID bits without the owner they were set for, or re-mode
/// and re-time a directory that was already there.
@Suite("File tree restore as root")
struct FileTreeRootRestoreTests {
    static func restore(
        _ entries: [TestEntry], to destination: String, overwrite: Bool = false
    ) throws -> RestoreSummary {
        try FileTreeWriter(destination: destination, overwrite: overwrite)
            .restore(from: try PayloadReader(source: MemorySource(try makePayload(entries))))
    }

    static func entry(_ path: String, _ kind: EntryKind, mode: UInt32) -> TestEntry {
        let content: [UInt8] = kind == .file ? Array("#!/bin/sh\n".utf8) : []
        return TestEntry(
            metadata: EntryMetadata(
                path: PathBytes(path), kind: kind, mode: mode, modificationTime: timestamp(7),
                size: UInt64(content.count)),
            content: content)
    }

    static func mode(_ path: String) throws -> UInt32 { try NodeDescription(path).mode }

    /// A version-1 entry records no owner, so whoever restores it (root here) would
    /// own a set-user-ID file someone else set up: both bits are dropped, the rest
    /// (sticky included) kept, and overwriting does not bring them back.
    @Test func setUserAndGroupIDNeverComeWithoutTheirOwner() throws {
        let work = TemporaryDirectory()
        let entries = [
            Self.entry("suid", .file, mode: 0o4755), Self.entry("sgid", .file, mode: 0o2750),
            Self.entry("both", .file, mode: 0o6711), Self.entry("dir", .directory, mode: 0o3775),
        ]
        for overwrite in [false, true] {
            if overwrite { try TreeBuilder.write(work.sub("dest/suid"), [1], mode: 0o644) }
            _ = try Self.restore(entries, to: work.sub("dest"), overwrite: overwrite)
            #expect(try Self.mode(work.sub("dest/suid")) == 0o755)
            #expect(try Self.mode(work.sub("dest/sgid")) == 0o750)
            #expect(try Self.mode(work.sub("dest/both")) == 0o711)
            #expect(try Self.mode(work.sub("dest/dir")) == 0o1775)
        }
    }

    @Test func theRuleKeepsEachBitOnlyWithItsOwnOwner() {
        let owner = (uid: UInt32(1234), gid: UInt32(50))
        #expect(RestoredMode.permitted(0o6755, recorded: owner, actual: owner) == 0o6755)
        #expect(RestoredMode.permitted(0o6755, recorded: owner, actual: (0, 50)) == 0o2755)
        #expect(RestoredMode.permitted(0o6755, recorded: owner, actual: (1234, 0)) == 0o4755)
        #expect(RestoredMode.permitted(0o6755, recorded: nil, actual: (0, 0)) == 0o755)
        #expect(RestoredMode.permitted(0o1777, recorded: nil, actual: (0, 0)) == 0o1777)
    }

    /// An existing 0700 directory stays 0700 with its own time; `overwrite` applies the
    /// backup's mode and time, as tar does for directories it extracts over.
    @Test func existingDirectoriesKeepTheirModeAndTimeUnlessOverwriting() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("dest"))
        try TreeBuilder.mkdir(work.sub("dest/private"), mode: 0o700)
        try TreeBuilder.setTime(work.sub("dest/private"), 1_000, 5)
        let entries = [Self.entry("private", .directory, mode: 0o755), Self.entry("private/f", .file, mode: 0o644)]
        _ = try Self.restore(entries, to: work.sub("dest"))
        let kept = try NodeDescription(work.sub("dest/private"))
        #expect(kept.mode == 0o700)
        // Its time is what adding "f" made it, not the backup's.
        #expect(kept.seconds > 1_000_000_000)
        #expect(FileManager.default.fileExists(atPath: work.sub("dest/private/f")))

        _ = try Self.restore(entries, to: work.sub("dest"), overwrite: true)
        let replaced = try NodeDescription(work.sub("dest/private"))
        #expect(replaced.mode == 0o755)
        #expect(replaced.seconds == 7 && replaced.nanoseconds == 0)
    }
}
