import DBSTestSupport
import Foundation
import Testing

/// A tree with owners, an ACL, hard links and a FIFO through the real binary, as root
/// (CI); the listing shows each kind and escapes what could forge a line.
@Suite("dbs backup and restore keep what tar keeps", .serialized)
struct CLIFaithfulTreeTests {
    static func status(_ path: String) -> stat {
        var info = stat()
        lstat(path, &info)
        return info
    }

    @Test(.enabled(if: geteuid() == 0)) func ownersLinksFIFOsAndACLsRoundTrip() throws {
        let scratch = try Scratch()
        let tree = scratch.file("tree")
        try scratch.write("tree/etc/shadow-like", Array("secret".utf8), mode: 0o640)
        chown(scratch.file("tree/etc/shadow-like"), 0, 65534)
        try scratch.write("tree/home/app/tool", Array("#!/bin/sh\n".utf8), mode: 0o755)
        chown(scratch.file("tree/home/app/tool"), 4242, 4242)
        chmod(scratch.file("tree/home/app/tool"), 0o4755)
        link(scratch.file("tree/home/app/tool"), scratch.file("tree/home/app/tool-again"))
        mkfifo(scratch.file("tree/home/app/pipe"), 0o600)
        let acl = Process()
        acl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        acl.arguments = ["setfacl", "-m", "u:nobody:r", scratch.file("tree/etc/shadow-like")]
        try acl.run()
        Watchdog(pid: acl.processIdentifier).wait(for: acl, "setfacl")
        try #require(acl.terminationStatus == 0)
        try scratch.write("tree/evil\nfake line", [1])

        let backup = scratch.file("t.dbs")
        let made = try DBSTool.run(["backup", backup, tree] + DBSTool.fastKDF)
        #expect(made.status == 0, "\(made.stderr)")
        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect((try restored.json()["warnings"] as? [Any])?.isEmpty == true)
        let out = scratch.file("out/tree")
        let tool = Self.status(out + "/home/app/tool")
        #expect(tool.st_uid == 4242 && tool.st_mode & 0o7777 == 0o4755)
        #expect(Self.status(out + "/home/app/tool-again").st_ino == tool.st_ino)
        #expect(Self.status(out + "/home/app/pipe").st_mode & S_IFMT == S_IFIFO)
        #expect(Self.status(out + "/etc/shadow-like").st_gid == 65534)
        let facl = Process()
        let pipe = Pipe()
        facl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        facl.arguments = ["getfacl", "-c", out + "/etc/shadow-like"]
        facl.standardOutput = pipe
        try facl.run()
        let watchdog = Watchdog(pid: facl.processIdentifier)
        let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        watchdog.wait(for: facl, "getfacl")
        #expect(listing.contains("user:nobody:r--"), "\(listing)")

        let list = try DBSTool.run(["list", backup])
        #expect(list.status == 0)
        #expect(list.stdoutText.contains("tree/evil\\nfake line"), "\(list.stdoutText)")
        #expect(!list.stdoutText.split(separator: "\n").contains { $0.hasPrefix("fake line") })
        #expect(list.stdoutText.contains("hardlink"))
        #expect(list.stdoutText.contains("fifo"))
    }
}
