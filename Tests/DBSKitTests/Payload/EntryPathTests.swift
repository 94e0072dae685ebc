import DBSIO
import Foundation
import Testing

@testable import DBSKit
@testable import DBSPayload

/// One rule for entry paths, applied where a payload is written and where it is
/// restored: a library caller cannot write a backup that no restore extracts.
@Suite("Entry path rule")
struct EntryPathTests {
    static let refused: [(PathBytes, String)] = [
        ("../x", "the path has a '..' component, which could leave the destination"),
        ("a/../../x", "the path has a '..' component, which could leave the destination"),
        ("..", "the path has a '..' component, which could leave the destination"),
        ("/etc/passwd", "the path is absolute"),
        ("/", "the path is absolute"),
        ("a//b", "the path has an empty component"),
        ("a/", "the path has an empty component"),
        ("a/./b", "the path has a '.' component"),
        (".", "the path has a '.' component"),
        ("a\u{0}b", "the path contains a NUL byte"),
        (
            PathBytes(bytes: [0xFF, 0x2F, 0x2E, 0x2E]),
            "the path has a '..' component, which could leave the destination"
        ),
    ]

    static func entry(_ path: PathBytes, _ kind: EntryKind = .directory, target: PathBytes? = nil) -> EntryMetadata {
        EntryMetadata(path: path, kind: kind, mode: 0o755, modificationTime: timestamp(1), linkTarget: target)
    }

    @Test func writerRefusesWhatNoRestoreWouldCreate() throws {
        for (path, reason) in Self.refused {
            #expect(throws: EntryPath.Refusal(reason: reason)) { try EntryPath.check(path) }
            // The restore refuses it for the same reason.
            #expect(throws: DataError.unsafePath(path: path.escaped, reason: reason)) {
                _ = try EntryPath.restorable(path)
            }
            for kind in [EntryKind.file, .directory, .symlink, .fifo] {
                let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
                #expect(throws: PayloadError.invalidEntry(path: path.escaped, reason: reason), "\(path) as a \(kind)") {
                    try writer.beginEntry(Self.entry(path, kind, target: kind == .symlink ? "t" : nil))
                }
            }
        }
    }

    @Test func hardLinkTargetsAreEntryPathsSymlinkTargetsAreNot() throws {
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        #expect(
            throws: PayloadError.invalidEntry(
                path: "l",
                reason: "its hard link target: the path has a '..' component, which could leave the destination")
        ) {
            try writer.beginEntry(Self.entry("l", .hardLink, target: "../etc/shadow"))
        }
        #expect(throws: PayloadError.invalidEntry(path: "l", reason: "its hard link target: the path is absolute")) {
            try writer.beginEntry(Self.entry("l", .hardLink, target: "/etc/shadow"))
        }
        #expect(throws: PayloadError.invalidEntry(path: "l", reason: "the link target contains a NUL byte")) {
            try writer.beginEntry(Self.entry("l", .symlink, target: "a\u{0}b"))
        }
        // A symlink may point anywhere: it is stored, never followed by a restore.
        for target: PathBytes in ["/etc/hostname", "../up", PathBytes(bytes: [0xFF, 0x2F, 0x80])] {
            try writer.beginEntry(Self.entry("link", .symlink, target: target))
            try writer.endEntry()
        }
    }

    @Test func refusedEntryLeavesTheWriterUsable() throws {
        let sink = MemorySink()
        let writer = try PayloadWriter(sink: sink, metadata: [:])
        #expect(throws: PayloadError.self) { try writer.beginEntry(Self.entry("../x")) }
        try writer.beginEntry(Self.entry("fine"))
        try writer.endEntry()
        let summary = try writer.finish()
        #expect(summary.entryCount == 1)
        #expect(try readPayload(sink.bytes).map(\.metadata.path) == ["fine"])
    }

    @Test func namesThatAreNotUTF8AreSafeNames() throws {
        // An overlong "..", "/" or NUL is bytes to the kernel, not "..", "/" or NUL.
        for bytes: [UInt8] in [
            [0xC0, 0xAE, 0xC0, 0xAE], [0x61, 0xC0, 0xAF, 0x62], [0xC0, 0x80], [0xFF], [0xED, 0xA0, 0x80],
        ] {
            let path = PathBytes(bytes: bytes)
            #expect(try EntryPath.components(of: path) == [path])
            let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
            try writer.beginEntry(Self.entry(path))
        }
        #expect(
            try EntryPath.components(of: PathBytes(bytes: [0xFF, 0x2F, 0x80])) == [
                PathBytes(bytes: [0xFF]), PathBytes(bytes: [0x80]),
            ])
    }

    /// The `--name` check of `dbs backup` is the same rule, as before.
    @Test func backupNameCheckIsTheSameRule() {
        for (path, reason) in Self.refused {
            guard let name = path.string else { continue }
            #expect(throws: DataError.unsafePath(path: path.escaped, reason: reason)) {
                try FileTreeWriter.checkEntryPath(name)
            }
        }
    }
}

/// What the rule lets through, and the edges of what it refuses: the tests above
/// cover the refusals one by one.
extension EntryPathTests {
    /// Names that only look like dots are names: the rule refuses exactly "." and "..".
    @Test func namesThatOnlyLookLikeDotsAreAccepted() throws {
        let accepted: [(PathBytes, [PathBytes])] = [
            ("a", ["a"]),
            ("a/b/c", ["a", "b", "c"]),
            ("...", ["..."]),
            (".hidden/..x/x..", [".hidden", "..x", "x.."]),
            ("a./.a/-/~", ["a.", ".a", "-", "~"]),
            ("dir with spaces/é", ["dir with spaces", "é"]),
        ]
        for (path, components) in accepted {
            #expect(try EntryPath.components(of: path) == components, "\(path)")
            #expect(try EntryPath.restorable(path) == components, "\(path)")
            let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
            try writer.beginEntry(Self.entry(path))
        }
    }

    @Test func anEmptyPathIsRefused() {
        #expect(throws: EntryPath.Refusal(reason: "the path is empty")) { try EntryPath.check("") }
        #expect(throws: DataError.unsafePath(path: "", reason: "the path is empty")) {
            _ = try EntryPath.restorable("")
        }
    }

    /// A path broken several ways is refused for the first rule in order: NUL, then
    /// absolute, then its components from the first.
    @Test func theFirstBrokenRuleIsTheReason() {
        let cases: [(PathBytes, String)] = [
            ("/a\u{0}/..", "the path contains a NUL byte"),
            ("/../x", "the path is absolute"),
            ("a/./../b", "the path has a '.' component"),
            ("a/..//b", "the path has a '..' component, which could leave the destination"),
            ("a//./b", "the path has an empty component"),
        ]
        for (path, reason) in cases {
            #expect(throws: EntryPath.Refusal(reason: reason), "\(path)") { try EntryPath.check(path) }
        }
    }

    /// The rule has no length bound of its own: the payload's (`maxPathBytes`) is the
    /// writer's, with its own reason, so a long path is refused as too long, not unsafe.
    @Test func lengthIsThePayloadsBoundNotTheRules() throws {
        let longest = PathBytes(String(repeating: "a/", count: PayloadFormat.maxPathBytes / 2 - 1) + "bc")
        let tooLong = PathBytes(String(repeating: "a/", count: PayloadFormat.maxPathBytes / 2) + "b")
        #expect(longest.bytes.count == PayloadFormat.maxPathBytes)
        #expect(try EntryPath.components(of: longest).count == PayloadFormat.maxPathBytes / 2)
        try EntryPath.check(tooLong)
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        try writer.beginEntry(Self.entry(longest))
        try writer.endEntry()
        let reason = "path is \(PayloadFormat.maxPathBytes + 1) bytes, more than \(PayloadFormat.maxPathBytes)"
        #expect(throws: PayloadError.invalidEntry(path: tooLong.escaped, reason: reason)) {
            try writer.beginEntry(Self.entry(tooLong))
        }
    }
}
