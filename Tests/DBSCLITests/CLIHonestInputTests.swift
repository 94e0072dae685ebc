import DBSTestSupport
import Foundation
import Testing

/// Inputs a backup must refuse rather than store in a form no restore can use, and
/// the passphrase file read as the whole file.
@Suite("dbs refuses what it could not restore", .serialized)
struct CLIHonestInputTests {
    @Test(arguments: ["/var/backups/db.sql", "./db.sql", "../db.sql", "a//b", "a/", ""])
    func nameThatNoRestoreCouldExtractIsRefused(name: String) throws {
        let scratch = try Scratch()
        let output = scratch.file("s.dbs")
        // More input than a pipe holds, so the refusal always comes while the harness is
        // still writing: the write then fails with EPIPE, which must not kill the runner.
        let result = try DBSTool.run(
            ["backup", output, "-", "--name", name] + DBSTool.fastKDF,
            stdin: Data(repeating: 0x64, count: 1 << 20))
        #expect(result.status == 2, "\(name): \(result.stderr)")
        #expect(result.stderr.contains("could never be restored"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func aNestedNameIsFineAndRestores() throws {
        let scratch = try Scratch()
        let output = scratch.file("s.dbs")
        #expect(
            try DBSTool.run(
                ["backup", output, "-", "--name", "db/dump.sql"] + DBSTool.fastKDF,
                stdin: Data("dump".utf8)
            ).status == 0)
        #expect(try DBSTool.run(["restore", output, "--to", scratch.file("out")]).status == 0)
        #expect(FileManager.default.contents(atPath: scratch.file("out/db/dump.sql")) == Data("dump".utf8))
    }

    /// The whole file, one trailing newline stripped; more than 64 KiB refused; a FIFO
    /// read to its end; a directory refused as one.
    @Test func passphraseFileIsTheWholeFile() throws {
        let scratch = try Scratch()
        try scratch.write("in", [1, 2, 3])
        let secret = "first line\nsecond line " + String(repeating: "x", count: 5000)
        let file = try scratch.write("pass", Array((secret + "\n").utf8), mode: 0o600)
        let made = try DBSTool.run(
            ["backup", scratch.file("a.dbs"), scratch.file("in"), "--passphrase-file", file]
                + DBSTool.fastKDF, passphrase: nil)
        #expect(made.status == 0, "\(made.stderr)")
        // Opens with the whole secret, not with its first line.
        #expect(
            try DBSTool.run(["validate", scratch.file("a.dbs"), "--passphrase", secret], passphrase: nil).status == 0)
        #expect(
            try DBSTool.run(["list", scratch.file("a.dbs"), "--passphrase", "first line"], passphrase: nil).status == 3)

        let fifo = scratch.file("fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        // Written through the FIFO itself: the open blocks until `list` opens it to read.
        // (`FileManager.createFile` writes atomically, a temporary renamed over the path:
        // it replaced the FIFO with a file, and a `list` that had opened the FIFO first
        // waited forever.) Whether the write succeeded shows in the `list` below.
        let writer = Thread {
            guard let handle = FileHandle(forWritingAtPath: fifo) else { return }
            ChildInput.write(Data((secret + "\n").utf8), to: handle)
        }
        writer.start()
        #expect(
            try DBSTool.run(["list", scratch.file("a.dbs"), "--passphrase-file", fifo], passphrase: nil).status == 0)

        let large = try scratch.write("large", Array(repeating: UInt8(ascii: "p"), count: (64 << 10) + 1))
        let refused = try DBSTool.run(["list", scratch.file("a.dbs"), "--passphrase-file", large], passphrase: nil)
        #expect(refused.status == 2 && refused.stderr.contains("larger than 64 KiB"), "\(refused.stderr)")
        let directory = try DBSTool.run(
            ["list", scratch.file("a.dbs"), "--passphrase-file", scratch.path], passphrase: nil)
        #expect(directory.status == 5 && directory.stderr.contains("is a directory"), "\(directory.stderr)")
    }
}

/// A file that changes while read and an input that cannot be stored are named, and
/// the backup says it is not exact: exit 6, `"ok": false`, `skipped` and `changed`.
@Suite("dbs backup reports what it could not store exactly", .serialized)
struct CLIChangedInputTests {
    @Test func skippedAndChangedInputsExit6() throws {
        let scratch = try Scratch()
        var rng = [UInt8](repeating: 0, count: 16 << 20)
        for i in stride(from: 0, to: rng.count, by: 4096) { rng[i] = UInt8(truncatingIfNeeded: i / 4096) }
        let growing = try scratch.write("tree/growing.log", rng)
        try scratch.write("tree/steady", [1, 2, 3])
        let socketPath = scratch.file("tree/control.sock")
        let listener = try #require(UnixSocket(at: socketPath))
        defer { withExtendedLifetime(listener) {} }

        // Appends to the log every 200 µs for as long as the backup runs: until `stop`
        // is signalled (a semaphore, so no variable is shared with the thread).
        func backUpWhileTheLogGrows() throws -> DBSTool.Result {
            try? FileManager.default.removeItem(atPath: scratch.file("t.dbs"))
            let stop = DispatchSemaphore(value: 0)
            let appender = Thread {
                let fd = open(growing, O_WRONLY | O_APPEND)
                defer { close(fd) }
                let line = Array("another line\n".utf8)
                repeat {
                    _ = write(fd, line, line.count)
                } while stop.wait(timeout: .now() + .microseconds(200)) == .timedOut
            }
            appender.start()
            defer { stop.signal() }
            return try DBSTool.run(
                ["backup", scratch.file("t.dbs"), scratch.file("tree"), "--json", "--threads", "1"]
                    + DBSTool.fastKDF)
        }
        // Whether an append lands while the 16 MiB are read is the scheduler's choice: on
        // a loaded machine the appender can sleep through the whole read (CI saw it), and
        // the backup then rightly reports the log as read whole. So up to four runs.
        var result = try backUpWhileTheLogGrows()
        for _ in 1..<4 where (try? result.json()["changed"] as? [Any])?.isEmpty == true {
            result = try backUpWhileTheLogGrows()
        }
        #expect(result.status == 6, "\(result.stderr)")
        let report = try result.json()
        #expect(report["ok"] as? Bool == false)
        let skipped = try #require(report["skipped"] as? [[String: String]])
        #expect(skipped.map { $0["path"] } == [socketPath])
        #expect(skipped.first?["reason"] == "it is a socket")
        let changed = try #require(report["changed"] as? [[String: String]])
        #expect(changed.map { $0["path"] } == [growing])
        #expect(changed.first?["reason"]?.contains("grew while read") == true, "\(changed)")
        #expect(result.stderr.contains("exit 6"))
        // The backup itself is complete and verified.
        #expect(try DBSTool.run(["validate", scratch.file("t.dbs")]).status == 0)
    }
}
