import Foundation
import Testing

/// `dbs backup --force` and the outputs it must never replace.
@Suite("dbs backup --force refuses what is not a regular file", .serialized)
struct CLIForceOutputTests {
    static func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func forceOntoAFIFOADeviceOrASymlinkIsRefused() throws {
        let scratch = try Scratch()
        try scratch.write("in/f", [1, 2, 3])
        let fifo = scratch.file("fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let link = scratch.file("link")
        try scratch.write("target", Array("keep".utf8))
        try #require(symlink(scratch.file("target"), link) == 0)
        var targets = [(fifo, S_IFIFO, "a FIFO"), (link, S_IFLNK, "a symlink")]
        if geteuid() == 0 {
            // A private twin of /dev/null (same major/minor): what `--force /dev/null`
            // would have deleted, without risking the real one.
            let device = scratch.file("null")
            try #require(mknod(device, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
            targets.append((device, S_IFCHR, "a character device"))
        }
        for (target, type, kind) in targets {
            let refused = try DBSTool.run(["backup", target, scratch.file("in"), "--force"] + DBSTool.fastKDF)
            #expect(refused.status == 5, "\(target): \(refused.stderr)")
            #expect(refused.stderr.contains("is \(kind), not a regular file"), "\(refused.stderr)")
            #expect(Self.kind(target) == type, "\(target) is still \(kind)")
        }
        #expect(FileManager.default.contents(atPath: scratch.file("target")) == Data("keep".utf8))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                == (["fifo", "in", "link", "target"] + (geteuid() == 0 ? ["null"] : [])).sorted())
    }
}
