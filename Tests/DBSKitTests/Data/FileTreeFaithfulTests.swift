import DBSIO
import DBSSystem
import Foundation
import Testing

@testable import DBSKit
@testable import DBSPayload

/// What tar, restic and borg keep and DBS must too: owners, extended attributes and
/// ACLs, hard links, FIFOs, device nodes (payload version 2). Root parts run in CI.
@Suite("File tree owners, attributes, links and special files")
struct FileTreeFaithfulTests {
    static let isRoot = geteuid() == 0

    static func roundTrip(
        _ inputs: [String], to destination: String, numericOwner: Bool = false,
        warnings: ((FileTreeWarning) -> Void)? = nil
    ) throws -> RestoreSummary {
        let payload = try payloadOf(inputs, warnings: warnings)
        return try FileTreeWriter(destination: destination, numericOwner: numericOwner)
            .restore(from: try PayloadReader(source: MemorySource(payload)))
    }

    static func status(_ path: String) throws -> stat {
        var info = stat()
        try #require(lstat(path, &info) == 0, "lstat \(path)")
        return info
    }

    static func run(_ command: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(command) \(arguments)")
    }

    static func attributes(_ path: String) -> [ExtendedAttribute] {
        ExtendedAttributes.read(descriptor: -1, path: PathBytes(path), shownAs: path, warn: { Issue.record("\($0)") })
    }

    @Test(.enabled(if: isRoot)) func ownersRoundTripAsRootWithSetUserID() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("src"))
        try TreeBuilder.write(work.sub("src/nobodys"), Array("n".utf8), mode: 0o640)
        try #require(chown(work.sub("src/nobodys"), 65534, 65534) == 0)
        try TreeBuilder.write(work.sub("src/nameless-tool"), Array("#!/bin/sh\n".utf8))
        try #require(chown(work.sub("src/nameless-tool"), 4242, 4343) == 0)
        try #require(chmod(work.sub("src/nameless-tool"), 0o6755) == 0)
        try TreeBuilder.mkdir(work.sub("src/dir"))
        try #require(chown(work.sub("src/dir"), 4242, 4343) == 0)
        try TreeBuilder.symlink("nobodys", at: work.sub("src/link"))
        try #require(lchown(work.sub("src/link"), 65534, 4343) == 0)

        let entries = try readPayload(try payloadOf([work.sub("src")]))
        let owners = Dictionary(uniqueKeysWithValues: entries.map { ($0.metadata.path, $0.metadata.owner) })
        #expect(owners["src/nobodys"] == EntryOwner(uid: 65534, gid: 65534, user: "nobody", group: "nogroup"))
        #expect(owners["src/nameless-tool"] == EntryOwner(uid: 4242, gid: 4343))

        _ = try Self.roundTrip([work.sub("src")], to: work.sub("out"))
        for (path, uid, gid) in [
            ("nobodys", 65534, 65534), ("nameless-tool", 4242, 4343), ("dir", 4242, 4343),
            ("link", 65534, 4343),
        ] {
            let restored = try Self.status(work.sub("out/src/" + path))
            #expect(restored.st_uid == uid && restored.st_gid == gid, "\(path)")
        }
        // The set-ID bits come back with the very owner they were set for.
        #expect(try Self.status(work.sub("out/src/nameless-tool")).st_mode & 0o7777 == 0o6755)
        #expect(try Self.status(work.sub("out/src/nobodys")).st_mode & 0o7777 == 0o640)
    }

    /// By name where the name exists here, by number with `numericOwner`; set-ID bits
    /// follow whichever owner the entry gets.
    @Test(.enabled(if: isRoot)) func ownersByNameElseNumber() throws {
        let work = TemporaryDirectory()
        let owner = EntryOwner(uid: 4242, gid: 4343, user: "nobody", group: "no-such-group-here")
        let content = Array("x".utf8)
        let payload = try makePayload([
            TestEntry(
                metadata: EntryMetadata(
                    path: "tool", kind: .file, mode: 0o4755, modificationTime: timestamp(5), size: 1, owner: owner),
                content: content)
        ])
        _ = try FileTreeWriter(destination: work.sub("named")).restore(
            from: try PayloadReader(source: MemorySource(payload)))
        let named = try Self.status(work.sub("named/tool"))
        #expect(named.st_uid == 65534 && named.st_gid == 4343)
        #expect(named.st_mode & 0o7777 == 0o4755)
        _ = try FileTreeWriter(destination: work.sub("numeric"), numericOwner: true)
            .restore(from: try PayloadReader(source: MemorySource(payload)))
        let numeric = try Self.status(work.sub("numeric/tool"))
        #expect(numeric.st_uid == 4242 && numeric.st_gid == 4343)
        #expect(numeric.st_mode & 0o7777 == 0o4755)
    }

    @Test func extendedAttributesAndACLsRoundTrip() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("src"))
        try TreeBuilder.write(work.sub("src/f"), Array("acl".utf8), mode: 0o640)
        try Self.run("setfattr", ["-n", "user.comment", "-v", "kept", work.sub("src/f")])
        try Self.run("setfacl", ["-m", "u:nobody:r", work.sub("src/f")])
        try TreeBuilder.mkdir(work.sub("src/shared"))
        try Self.run("setfacl", ["-m", "u:nobody:rwx", "-d", "-m", "u:nobody:rwx", work.sub("src/shared")])
        let before = [Self.attributes(work.sub("src/f")), Self.attributes(work.sub("src/shared"))]
        #expect(before[0].map(\.name) == ["system.posix_acl_access", "user.comment"])
        #expect(before[1].map(\.name) == ["system.posix_acl_access", "system.posix_acl_default"])
        let summary = try Self.roundTrip([work.sub("src")], to: work.sub("out"))
        #expect(summary.warnings.isEmpty, "\(summary.warnings)")
        #expect(Self.attributes(work.sub("out/src/f")) == before[0])
        #expect(Self.attributes(work.sub("out/src/shared")) == before[1])
        #expect(try Self.status(work.sub("out/src/f")).st_mode & 0o7777 == 0o640)
    }

    /// A file system without user attributes gets a warning, not a failure: a tmpfs
    /// mounted with user_xattr off is not available everywhere, so the refusal comes
    /// from an attribute name the kernel refuses on any file system.
    @Test func anAttributeTheFileSystemRefusesIsAWarning() throws {
        let work = TemporaryDirectory()
        let payload = try makePayload([
            TestEntry(
                metadata: EntryMetadata(
                    path: "f", kind: .file, mode: 0o644, modificationTime: timestamp(5), size: 1,
                    extendedAttributes: [ExtendedAttribute(name: "bogus.namespace", value: [1])]), content: [9])
        ])
        let summary = try FileTreeWriter(destination: work.sub("out")).restore(
            from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.files == 1)
        #expect(summary.warnings.count == 1)
        #expect(summary.warnings.first?.message.hasPrefix("extended attribute 'bogus.namespace' not restored") == true)
        #expect(try String(contentsOfFile: work.sub("out/f"), encoding: .utf8) == "\u{9}")
    }

    @Test func hardLinksAreStoredOnceAndRestoredAsLinks() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("src"))
        try TreeBuilder.mkdir(work.sub("src/sub"))
        try TreeBuilder.write(work.sub("src/a"), Array(repeating: 7, count: 100_000))
        try #require(link(work.sub("src/a"), work.sub("src/b")) == 0)
        try #require(link(work.sub("src/a"), work.sub("src/sub/c")) == 0)
        let entries = try readPayload(try payloadOf([work.sub("src")]))
        let kinds = Dictionary(uniqueKeysWithValues: entries.map { ($0.metadata.path, $0.metadata.kind) })
        #expect(kinds["src/a"] == .file && kinds["src/b"] == .hardLink && kinds["src/sub/c"] == .hardLink)
        #expect(entries.reduce(0) { $0 + $1.content.count } == 100_000, "the content is stored once")
        let summary = try Self.roundTrip([work.sub("src")], to: work.sub("out"))
        #expect(summary.hardLinks == 2 && summary.files == 1)
        let inode = try Self.status(work.sub("out/src/a")).st_ino
        #expect(try Self.status(work.sub("out/src/b")).st_ino == inode)
        #expect(try Self.status(work.sub("out/src/sub/c")).st_ino == inode)
        #expect(try Self.status(work.sub("out/src/a")).st_nlink == 3)
        #expect(FileManager.default.contentsEqual(atPath: work.sub("src/a"), andPath: work.sub("out/src/sub/c")))
    }

    @Test func aHardLinkMustNameAFileRestoredBeforeIt() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.write(work.sub("outside"), [1])
        for target in ["outside", "../outside", "dir"] {
            let payload = try makePayload(
                [
                    TestEntry(
                        metadata: EntryMetadata(
                            path: "dir", kind: .directory, mode: 0o755, modificationTime: timestamp(1)), content: []),
                    TestEntry(
                        metadata: EntryMetadata(
                            path: "l", kind: .hardLink, mode: 0o644, modificationTime: timestamp(1),
                            linkTarget: PathBytes(target)), content: []),
                ], checksEntryPaths: false)  // the writer itself refuses "../outside"
            #expect(throws: DataError.self) {
                _ = try FileTreeWriter(destination: work.sub("out")).restore(
                    from: try PayloadReader(source: MemorySource(payload)))
            }
        }
        #expect(try relativePaths(work.path) == ["outside"])
    }

    @Test func fifosAndDeviceNodes() throws {
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("src"))
        try #require(mkfifo(work.sub("src/pipe"), 0o600) == 0 && chmod(work.sub("src/pipe"), 0o620) == 0)
        if Self.isRoot {
            try #require(mknod(work.sub("src/null"), S_IFCHR | 0o600, dev_t((1 << 8) | 3)) == 0)
            try #require(chmod(work.sub("src/null"), 0o666) == 0)
            try #require(mknod(work.sub("src/disk"), S_IFBLK | 0o600, dev_t((7 << 8) | 200)) == 0)
        }
        let summary = try Self.roundTrip([work.sub("src")], to: work.sub("out"))
        #expect(summary.specialFiles == (Self.isRoot ? 3 : 1))
        let pipe = try Self.status(work.sub("out/src/pipe"))
        #expect(pipe.st_mode & S_IFMT == S_IFIFO && pipe.st_mode & 0o7777 == 0o620)
        if Self.isRoot {
            let null = try Self.status(work.sub("out/src/null"))
            #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_rdev == (1 << 8) | 3 && null.st_mode & 0o7777 == 0o666)
            let disk = try Self.status(work.sub("out/src/disk"))
            #expect(disk.st_mode & S_IFMT == S_IFBLK && disk.st_rdev == (7 << 8) | 200)
        }
    }

    @Test func deviceNodesAreSkippedWithAWarningWhenNotRoot() throws {
        guard !Self.isRoot else { return }
        let work = TemporaryDirectory()
        let payload = try makePayload([
            TestEntry(
                metadata: EntryMetadata(
                    path: "null", kind: .characterDevice, mode: 0o666, modificationTime: timestamp(1),
                    device: DeviceNumber(major: 1, minor: 3)), content: [])
        ])
        let summary = try FileTreeWriter(destination: work.sub("out")).restore(
            from: try PayloadReader(source: MemorySource(payload)))
        #expect(summary.specialFiles == 0 && summary.warnings.count == 1)
    }

    /// What DBS wrote before payload version 2 still restores; version 1 carries none
    /// of the new kinds or fields, and a reader holds it to that.
    @Test func version1PayloadsStillRead() throws {
        let work = TemporaryDirectory()
        let sink = MemorySink()
        let writer = try PayloadWriter(sink: sink, metadata: [:], formatVersion: 1)
        try writer.beginEntry(EntryMetadata(path: "d", kind: .directory, mode: 0o750, modificationTime: timestamp(2)))
        try writer.endEntry()
        try writer.beginEntry(
            EntryMetadata(path: "d/f", kind: .file, mode: 0o4755, modificationTime: timestamp(3), size: 2))
        try writer.writeContent([1, 2])
        try writer.endEntry()
        #expect(throws: PayloadError.self) {
            try writer.beginEntry(EntryMetadata(path: "d/p", kind: .fifo, mode: 0o600, modificationTime: timestamp(3)))
        }
        _ = try writer.finish()
        let reader = try PayloadReader(source: MemorySource(sink.bytes))
        #expect(reader.formatVersion == 1 && reader.metadata["payload_version"] == "1")
        let summary = try FileTreeWriter(destination: work.sub("out")).restore(from: reader)
        #expect(summary.files == 1 && summary.directories == 1)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: work.sub("out/d/f")))) == [1, 2])
        // No owner recorded: the set-user-ID bit does not survive.
        #expect(try Self.status(work.sub("out/d/f")).st_mode & 0o7777 == 0o755)

        let v2 = EntryMetadata(
            path: "p", kind: .fifo, mode: 0o600, modificationTime: timestamp(1),
            owner: EntryOwner(uid: 1, gid: 2, user: "u"))
        let body = try EntryHeaderCoding.encode(v2)
        #expect(try EntryHeaderCoding.decode(body) == v2)
        #expect(throws: PayloadError.self) { try EntryHeaderCoding.decode(body, version: 1) }
    }
}
