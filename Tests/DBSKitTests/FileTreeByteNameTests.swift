import Foundation
import Testing
@testable import DBSKit
#if canImport(Glibc)
import Glibc
#endif

/// Names as the kernel has them: bytes that are not UTF-8, Unicode normalisation
/// forms, control characters. Real files on this machine's file system (ext4 or
/// tmpfs under /tmp), backed up and restored byte for byte.
@Suite("File tree names as bytes")
struct FileTreeByteNameTests {
    /// Names that are not valid UTF-8, one of each way UTF-8 can be broken.
    static let invalidNames: [[UInt8]] = [
        [0xFF] + Array("-ff".utf8),                      // a byte UTF-8 never has
        Array("lone-".utf8) + [0x80],                    // a continuation byte with no lead
        [0xC0, 0xAE, 0xC0, 0xAE],                        // an overlong "..": four bytes, not a way up
        [0xC0, 0xAF] + Array("overlong-slash".utf8),     // an overlong "/": part of the name
        Array("surrogate-".utf8) + [0xED, 0xA0, 0x80],   // U+D800 encoded in UTF-8
        Array("caf".utf8) + [0xE9],                      // Latin-1 "café"
        Array("cut-".utf8) + [0xE2, 0x82],               // a sequence cut short
    ]
    /// Valid UTF-8 the restore must not merge or rewrite: "é" precomposed (NFC) and
    /// decomposed (NFD) side by side, control characters, a backslash.
    static let textNames: [[UInt8]] = [
        Array("caf".utf8) + [0xC3, 0xA9],
        Array("caf".utf8) + [0x65, 0xCC, 0x81],
        Array("new\nline".utf8),
        Array("tab\tand\u{1B}[31mescape".utf8),
        Array("c1-\u{85}-next-line".utf8),
        Array("back\\slash".utf8),
    ]

    /// A tree under `root` with every name above as a file, a directory named with
    /// invalid bytes holding files named so too, hard links under such names and a
    /// symlink whose target is not UTF-8.
    static func makeTree(_ root: PathBytes) throws {
        try make(root, directory: true)
        for (index, name) in (invalidNames + textNames).enumerated() {
            try write(root.appending(PathBytes(bytes: name)), Array("content \(index)".utf8))
        }
        let directory = root.appending(PathBytes(bytes: [0xFE, 0xFF] + Array("-dir".utf8)))
        try make(directory, directory: true)
        try write(directory.appending("inside"), Array("in a directory not named in UTF-8".utf8))
        try write(directory.appending(PathBytes(bytes: [0x80, 0x81])), Array("both".utf8))
        let original = directory.appending(PathBytes(bytes: Array("linked-".utf8) + [0xFF]))
        try write(original, Array("one inode, three names".utf8))
        for link in [root.appending(PathBytes(bytes: [0xED, 0xB0, 0x80])), directory.appending(PathBytes(bytes: [0xC1, 0xBF]))] {
            try #require(original.withCString { from in link.withCString { linkat(AT_FDCWD, from, AT_FDCWD, $0, 0) } } == 0)
        }
        let symlink = root.appending(PathBytes(bytes: Array("link-".utf8) + [0xFF]))
        let target = PathBytes(bytes: [0xFE, 0xFF] + Array("-dir/".utf8) + [0x80, 0x81])
        try #require(target.withCString { to in symlink.withCString { Glibc.symlink(to, $0) } } == 0)
    }

    static func make(_ path: PathBytes, directory: Bool) throws {
        try #require(path.withCString { mkdir($0, 0o750) } == 0, "mkdir \(path): errno \(errno)")
    }

    static func write(_ path: PathBytes, _ bytes: [UInt8]) throws {
        let fd = path.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o640) }
        try #require(fd >= 0, "open \(path): errno \(errno)")
        defer { close(fd) }
        try #require(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    /// Everything below `root` by relative byte path: type, mode, size, content or
    /// link target bytes, and the inode (to compare hard-link groups).
    struct Node: Equatable {
        var type: UInt32
        var mode: UInt32
        var mtime: FileTimestamp
        var content: [UInt8]
        var inode: UInt64
    }

    static func scan(_ root: PathBytes) throws -> [PathBytes: Node] {
        var nodes: [PathBytes: Node] = [:]
        func visit(_ path: PathBytes, relative: PathBytes?) throws {
            var status = stat()
            try #require(path.withCString { lstat($0, &status) } == 0, "lstat \(path)")
            let type = status.st_mode & 0o170000
            var content: [UInt8] = []
            if type == 0o120000 { content = try POSIX.linkTarget(path) }
            if type == 0o100000 {
                let fd = path.withCString { open($0, O_RDONLY) }
                try #require(fd >= 0)
                defer { close(fd) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                content = Array(buffer[0..<max(0, count)])
            }
            if let relative {
                nodes[relative] = Node(type: type, mode: status.st_mode & 0o7777,
                                       mtime: FileTimestamp(seconds: Int64(status.st_mtim.tv_sec), nanoseconds: UInt32(status.st_mtim.tv_nsec)),
                                       content: content, inode: UInt64(status.st_ino))
            }
            guard type == 0o040000 else { return }
            for name in try POSIX.directoryNames(path) {
                try visit(path.appending(name), relative: relative.map { $0.appending(name) } ?? name)
            }
        }
        try visit(root, relative: nil)
        return nodes
    }

    /// Same names (bytes), same kinds, modes, times, contents and link targets, and
    /// the same hard-link groups.
    static func expectSame(_ source: [PathBytes: Node], _ restored: [PathBytes: Node],
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(restored.keys) == Set(source.keys), sourceLocation: sourceLocation)
        for (path, node) in source {
            guard var copy = restored[path] else { continue }
            #expect(copy.inode != node.inode, "\(path) is a new file", sourceLocation: sourceLocation)
            let sameInode = source.filter { $0.value.inode == node.inode }.keys
            let restoredSameInode = restored.filter { $0.value.inode == copy.inode }.keys
            #expect(Set(sameInode) == Set(restoredSameInode), "hard links of \(path)", sourceLocation: sourceLocation)
            copy.inode = node.inode
            // A symlink's own time is restored too; a directory's was set last.
            #expect(copy == node, "\(path)", sourceLocation: sourceLocation)
        }
    }

    @Test func namesThatAreNotUTF8RoundTripByteForByte() throws {
        let work = TemporaryDirectory()
        let source = PathBytes(work.sub("src"))
        try Self.makeTree(source)
        // payloadOf records any warning as a failure: nothing is skipped.
        let payload = try payloadOf([work.sub("src")])
        let entries = try readPayload(payload)
        #expect(entries.count == Self.invalidNames.count + Self.textNames.count + 1 + 6 + 1)
        let hardLinks = entries.filter { $0.metadata.kind == .hardLink }
        #expect(hardLinks.count == 2)
        // Stored once, at its first name in byte order; its other names link to it.
        #expect(hardLinks.allSatisfy { $0.metadata.linkTarget == PathBytes(bytes: Array("src/".utf8) + [0xED, 0xB0, 0x80]) })

        let summary = try FileTreeWriter(destination: work.sub("dest"))
            .restore(from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.warnings.isEmpty)
        #expect(summary.hardLinks == 2)
        let expected = try Self.scan(source)
        let restored = try Self.scan(PathBytes(work.sub("dest/src")))
        Self.expectSame(expected, restored)
        // NFC and NFD are two files with their own content, not one name twice.
        let nfc = PathBytes(bytes: Self.textNames[0]), nfd = PathBytes(bytes: Self.textNames[1])
        #expect(restored[nfc]?.content == Array("content \(Self.invalidNames.count)".utf8))
        #expect(restored[nfd]?.content == Array("content \(Self.invalidNames.count + 1)".utf8))
    }

    @Test func onlyEntriesWithByteNamesCarryFlagBit7() throws {
        func header(_ path: PathBytes, target: PathBytes? = nil) throws -> [UInt8] {
            try EntryHeaderCoding.encode(EntryMetadata(path: path, kind: target == nil ? .directory : .symlink,
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
            _ = try EntryHeaderCoding.encode(EntryMetadata(path: invalid, kind: .directory, mode: 0o755,
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
        #expect(PathBytes(bytes: Array("cafe".utf8) + [0xCC, 0x81]).escaped.utf8.elementsEqual(Array("cafe".utf8) + [0xCC, 0x81]))
        // The scalar decoder agrees with Swift's validation on every name.
        for name in Self.invalidNames + Self.textNames {
            #expect((PathBytes(bytes: name).escaped.contains("\\x")) == (String(validating: name, as: UTF8.self) == nil)
                    || name.contains(0x1B))
        }
    }
}
