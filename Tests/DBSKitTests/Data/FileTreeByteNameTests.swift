import DBSIO
import DBSPayload
import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit

/// Names as the kernel has them: bytes that are not UTF-8, Unicode normalisation
/// forms, control characters (`ByteNameTree`). Real files on this machine's file
/// system (under /tmp), backed up and restored byte for byte.
@Suite("File tree names as bytes")
struct FileTreeByteNameTests {
    static let invalidNames = ByteNameTree.invalidNames
    static let textNames = ByteNameTree.textNames

    /// ext4 (/tmp here) and tmpfs (/dev/shm).
    @Test(arguments: ["/tmp", "/dev/shm"])
    func namesThatAreNotUTF8RoundTripByteForByte(base: String) throws {
        let work = TemporaryDirectory(under: base)
        defer { ByteNameTree.remove(Array(work.path.utf8)) }
        let source = Array(work.sub("src").utf8)
        try ByteNameTree.make(at: source)
        // payloadOf records any warning as a failure: nothing is skipped.
        let payload = try payloadOf([work.sub("src")])
        let entries = try readPayload(payload)
        #expect(entries.count == 1 + ByteNameTree.entryCount)
        let hardLinks = entries.filter { $0.metadata.kind == .hardLink }
        #expect(hardLinks.count == 2)
        // Stored once, at its first name in byte order; its other names link to it.
        let first = PathBytes(bytes: Array("src/".utf8) + ByteNameTree.hardLinkNames[0])
        #expect(hardLinks.allSatisfy { $0.metadata.linkTarget == first })
        #expect(
            entries.first { $0.metadata.kind == .symlink }?.metadata.linkTarget
                == PathBytes(bytes: ByteNameTree.symlinkTarget))

        let summary = try FileTreeWriter(destination: work.sub("dest"))
            .restore(from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.warnings.isEmpty)
        #expect(summary.hardLinks == 2)
        let restored = try ByteNameTree.scan(Array(work.sub("dest/src").utf8))
        #expect(ByteNameTree.differences(try ByteNameTree.scan(source), restored) == [])
        // NFC and NFD are two files with their own content, not one name twice.
        #expect(restored[Self.textNames[0]]?.content == Array("content \(Self.invalidNames.count)".utf8))
        #expect(restored[Self.textNames[1]]?.content == Array("content \(Self.invalidNames.count + 1)".utf8))
    }

    @Test func onlyEntriesWithByteNamesCarryFlagBit7() throws {
        func header(_ path: PathBytes, target: PathBytes? = nil) throws -> [UInt8] {
            try EntryHeaderCoding.encode(
                EntryMetadata(
                    path: path, kind: target == nil ? .directory : .symlink,
                    mode: 0o755, modificationTime: timestamp(1), linkTarget: target))
        }
        let flagsOffset = 1 + 4 + 8 + 4 + 8
        // A UTF-8 entry is encoded as before the flag existed: earlier readers read it.
        #expect(try header("café")[flagsOffset] == 0)
        #expect(try header("l", target: "t")[flagsOffset] == 1)
        let invalid = PathBytes(bytes: [0x61, 0xFF])
        #expect(try header(invalid)[flagsOffset] == 0x80)
        #expect(try header("l", target: invalid)[flagsOffset] == 0x81)
        #expect(Array(try header(invalid).suffix(4)) == [2, 0, 0x61, 0xFF])

        // Version 1 has no such flag: its writer refuses, its reader refuses the bit.
        #expect(throws: PayloadError.self) {
            _ = try EntryHeaderCoding.encode(
                EntryMetadata(
                    path: invalid, kind: .directory, mode: 0o755,
                    modificationTime: timestamp(1)), version: 1)
        }
        #expect(throws: PayloadError.malformedFrame("entry-header frame: unknown flags 0x80")) {
            _ = try EntryHeaderCoding.decode(try header(invalid), version: 1)
        }
        // Without the flag a path must still be UTF-8, exactly as before.
        var unflagged = try header(invalid)
        unflagged[flagsOffset] = 0
        #expect(throws: PayloadError.malformedFrame("entry-header frame: path is not valid UTF-8")) {
            _ = try EntryHeaderCoding.decode(unflagged)
        }
        for name in Self.invalidNames + Self.textNames {
            let path = PathBytes(bytes: name)
            #expect(try EntryHeaderCoding.decode(try header(path)).path == path)
            #expect(try EntryHeaderCoding.decode(try header("l", target: path)).linkTarget == path)
        }
    }

    @Test func escapingShowsEveryByte() {
        #expect(PathBytes(bytes: [0xFF] + Array("-ff".utf8)).escaped == "\\xff-ff")
        #expect(PathBytes(bytes: Array("lone-".utf8) + [0x80]).escaped == "lone-\\x80")
        #expect(PathBytes(bytes: [0xC0, 0xAE, 0xC0, 0xAE]).escaped == "\\xc0\\xae\\xc0\\xae")
        #expect(PathBytes(bytes: [0xED, 0xA0, 0x80]).escaped == "\\xed\\xa0\\x80")
        #expect(PathBytes(bytes: [0xF4, 0x90, 0x80, 0x80]).escaped == "\\xf4\\x90\\x80\\x80", "past U+10FFFF")
        #expect(PathBytes(bytes: Array("cut-".utf8) + [0xE2, 0x82]).escaped == "cut-\\xe2\\x82")
        #expect(PathBytes("new\nline\ttab\r\u{1B}\u{7F}").escaped == "new\\nline\\ttab\\r\\x1b\\x7f")
        #expect(PathBytes("c1\u{85}\u{2028}").escaped == "c1\\u{85}\\u{2028}")
        #expect(PathBytes("back\\slash").escaped == "back\\\\slash", "a literal \\x41 cannot pass for a byte")
        #expect(PathBytes("back\\x41").escaped == "back\\\\x41")
        // Valid UTF-8 shows as itself, NFD included (not normalised).
        #expect(PathBytes("ünïcødé ✓ 📦").escaped == "ünïcødé ✓ 📦")
        #expect(
            PathBytes(bytes: Array("cafe".utf8) + [0xCC, 0x81]).escaped.utf8.elementsEqual(
                Array("cafe".utf8) + [0xCC, 0x81]))
        // The scalar decoder agrees with Swift's validation on every name.
        for name in Self.invalidNames + Self.textNames {
            #expect(
                (PathBytes(bytes: name).escaped.contains("\\x")) == (String(validating: name, as: UTF8.self) == nil)
                    || name.contains(0x1B))
        }
    }

    /// The fixture's plaintext payload (make-payload-v2-fixture.py wrote it).
    static func fixtureReader() throws -> BackupReader {
        let fixture = RepositoryPaths.file("Tests/DBSKitTests/Fixtures/payload-v2-93db50b.dbs").path
        return try BackupReader(path: fixture, passphrase: SecureBytes(Array("fixture passphrase".utf8)), threads: 1)
    }

    /// A payload version 2 backup written by the code before this change (libDBSC from
    /// main 93db50b, `Fixtures/make-payload-v2-fixture.py`) restores as it did.
    @Test func payloadWrittenByThePreviousCodeStillRestores() throws {
        let reader = try Self.fixtureReader()
        let payload = try PayloadReader(source: reader)
        #expect(payload.formatVersion == 2)
        #expect(payload.metadata["payload_version"] == "2")
        let work = TemporaryDirectory()
        let summary = try FileTreeWriter(destination: work.sub("out")).restore(from: payload)
        #expect(summary.files == 3 && summary.directories == 2 && summary.symlinks == 1 && summary.hardLinks == 1)
        #expect(
            try Array(Data(contentsOf: URL(fileURLWithPath: work.sub("out/old/a.txt"))))
                == Array("written by DBS at 93db50b\n".utf8))
        #expect(
            try Array(Data(contentsOf: URL(fileURLWithPath: work.sub("out/old/ünïcødé ✓")))) == Array("юникод\n".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: work.sub("out/old/link")) == "a.txt")
        var a = stat()
        var b = stat()
        #expect(
            lstat(work.sub("out/old/a.txt"), &a) == 0 && lstat(work.sub("out/old/b"), &b) == 0 && a.st_ino == b.st_ino)
        #expect(a.st_mode & 0o7777 == 0o644 && a.st_mtim.tv_sec == 1_700_000_001 && a.st_mtim.tv_nsec == 123_456_789)
        var sub = stat()
        #expect(lstat(work.sub("out/old/sub"), &sub) == 0 && sub.st_mode & 0o7777 == 0o700)
    }

    /// The entries of that fixture written again by this code: their frames are the
    /// same bytes as the previous code's (flag bit 7 only where a name is not UTF-8).
    @Test func utf8EntriesAreEncodedAsThePreviousCodeEncodedThem() throws {
        let reader = try Self.fixtureReader()
        var old: [UInt8] = []
        while try reader.read(into: &old, maxLength: 1 << 16) > 0 {}
        // The entries as make-payload-v2-fixture.py gave them to dbs_writer_begin_entry.
        let specs: [(PathBytes, EntryKind, UInt32, [UInt8], PathBytes?)] = [
            ("old", .directory, 0o755, [], nil),
            ("old/a.txt", .file, 0o644, Array("written by DBS at 93db50b\n".utf8), nil),
            ("old/b", .hardLink, 0o644, [], "old/a.txt"),
            ("old/link", .symlink, 0o777, [], "a.txt"),
            ("old/sub", .directory, 0o700, [], nil),
            ("old/sub/empty", .file, 0o600, [], nil),
            ("old/ünïcødé ✓", .file, 0o640, Array("юникод\n".utf8), nil),
        ]
        let entries = specs.enumerated().map { index, spec in
            TestEntry(
                metadata: EntryMetadata(
                    path: spec.0, kind: spec.1, mode: spec.2,
                    modificationTime: timestamp(1_700_000_000 + Int64(index), 123_456_789),
                    size: UInt64(spec.3.count), linkTarget: spec.4), content: spec.3)
        }
        let new = try makePayload(entries)
        // The entry frames: after the header (6 + 10) and metadata frames, before the
        // end frame (6 + 48); the metadata (its time, the tool version) differs.
        func entryFrames(_ payload: [UInt8]) -> ArraySlice<UInt8> {
            let metadataLength = payload[18..<22].reversed().reduce(0) { $0 << 8 | Int($1) }
            return payload[(16 + 6 + metadataLength)..<(payload.count - 54)]
        }
        #expect(entryFrames(new) == entryFrames(old))
        #expect(entryFrames(old).count > 7 * 40)
    }
}
