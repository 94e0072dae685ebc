import DBSKit
import DBSTestSupport
import Foundation
import Testing

/// Every exit code and every kind of bad input, on the real binary.
@Suite("dbs exit codes and bad input", .serialized)
struct CLIExitCodeTests {
    func smallBackup(_ scratch: Scratch) throws -> String {
        var rng = SeededGenerator(seed: 9)
        try scratch.write("in/a.txt", rng.text(200_000))
        try scratch.write("in/b.bin", rng.bytes(2_000_000))
        let backup = scratch.file("in.dbs")
        let made = try DBSTool.run(["backup", backup, scratch.file("in")] + DBSTool.fastKDF)
        #expect(made.status == 0, "\(made.stderr)")
        return backup
    }

    @Test func usageErrorsExit2() throws {
        #expect(try DBSTool.run(["backup"]).status == 2)
        #expect(try DBSTool.run(["no-such-command"]).status == 2)
        #expect(try DBSTool.run(["backup", "/tmp/x.dbs", "/etc/hostname", "--copies", "3"]).status == 2)
        #expect(try DBSTool.run(["backup", "/tmp/x.dbs", "/etc/hostname", "--threads", "0"]).status == 2)
        #expect(try DBSTool.run(["backup", "/tmp/x.dbs", "/etc/hostname", "--checksum", "md5"]).status == 2)
    }

    @Test func noPassphraseAndNoTerminalExits2WithoutWaiting() throws {
        let scratch = try Scratch()
        try scratch.write("f", [1, 2, 3])
        let started = Date()
        let result = try DBSTool.run(["backup", scratch.file("f.dbs"), scratch.file("f")], passphrase: nil)
        #expect(result.status == 2)
        #expect(result.stderr.contains("passphrase"))
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("f.dbs")))
    }

    @Test func passphraseSourcesInOrder() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)
        let file = try scratch.write("pass.txt", Array("correct horse\n".utf8), mode: 0o600)
        #expect(try DBSTool.run(["list", backup, "--passphrase-file", file], passphrase: nil).status == 0)
        #expect(
            try DBSTool.run(
                ["list", backup, "--passphrase-stdin"], passphrase: nil,
                stdin: Data("correct horse\nignored\n".utf8)
            ).status == 0)
        #expect(try DBSTool.run(["list", backup, "--passphrase", "correct horse"], passphrase: nil).status == 0)
        // $DBS_PASSPHRASE comes before the file.
        #expect(try DBSTool.run(["list", backup, "--passphrase-file", file], passphrase: "wrong").status == 3)
    }

    @Test func wrongPassphraseExits3AndWritesNothing() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)
        let result = try DBSTool.run(["restore", backup, "--to", scratch.file("out")], passphrase: "not it")
        #expect(result.status == 3)
        #expect(result.stderr.lowercased().contains("passphrase"))
        #expect(!result.stderr.contains("not it"), "the passphrase never appears in messages")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: scratch.file("out"))) ?? []
        #expect(written.isEmpty)
        #expect(try DBSTool.run(["validate", backup], passphrase: "not it").status == 3)
    }

    @Test func existingOutputIsKeptUnlessForced() throws {
        let scratch = try Scratch()
        let target = try scratch.write("exists.dbs", Array("precious".utf8))
        try scratch.write("f", [1, 2, 3])
        let refused = try DBSTool.run(["backup", target, scratch.file("f")] + DBSTool.fastKDF)
        #expect(refused.status == 5, "an existing output is refused like any output error")
        #expect(FileManager.default.contents(atPath: target) == Data("precious".utf8))
        let forced = try DBSTool.run(["backup", target, scratch.file("f"), "--force"] + DBSTool.fastKDF)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try DBSTool.run(["validate", target]).status == 0)
    }

    @Test func restoreKeepsExistingFilesUnlessForced() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)
        try scratch.write("out/in/a.txt", Array("mine".utf8))
        let refused = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(refused.status != 0)
        #expect(FileManager.default.contents(atPath: scratch.file("out/in/a.txt")) == Data("mine".utf8))
        #expect(try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--force"]).status == 0)
        #expect(
            FileManager.default.contents(atPath: scratch.file("out/in/a.txt"))
                == FileManager.default.contents(atPath: scratch.file("in/a.txt")))
    }

    @Test func inputAndOutputErrorsExit5() throws {
        let scratch = try Scratch()
        let missing = try DBSTool.run(["backup", scratch.file("x.dbs"), scratch.file("nope")] + DBSTool.fastKDF)
        #expect(missing.status == 5)
        #expect(missing.stderr.contains("nope"))
        #expect(try DBSTool.run(["restore", scratch.file("nope.dbs")]).status == 5)
        #expect(try DBSTool.run(["inspect", scratch.file("nope.dbs")]).status == 5)
    }

    @Test func unreadableInputExits5() throws {
        // Root reads everything, so run this one as `nobody` when we are root.
        let scratch = try Scratch()
        chmod(scratch.path, 0o777)
        try scratch.write("in/secret", Array("x".utf8), mode: 0o000)
        chmod(scratch.file("in"), 0o777)
        let prefix = getuid() == 0 ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : []
        let result = try DBSTool.run(
            ["backup", scratch.file("out.dbs"), scratch.file("in")] + DBSTool.fastKDF,
            prefix: prefix)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.dbs")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0 != "in" }
        #expect(leftovers.isEmpty, "no temp file left: \(leftovers)")
    }

    @Test func fullDiskExits5AndLeavesNothing() throws {
        let scratch = try Scratch()
        var rng = SeededGenerator(seed: 2)
        try scratch.write("in/big.bin", rng.bytes(8 << 20))
        // A 2 MiB file-size limit: the backup cannot fit.
        let result = try DBSTool.run(
            ["backup", scratch.file("out.dbs"), scratch.file("in")] + DBSTool.fastKDF,
            prefix: ["sh", "-c", "ulimit -f 4096; exec \"$0\" \"$@\""])
        #expect(result.status == 5, "\(result.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0 != "in" }
        #expect(leftovers.isEmpty, "no partial output: \(leftovers)")
    }

    @Test func notABackupAndTruncatedBackups() throws {
        let scratch = try Scratch()
        var rng = SeededGenerator(seed: 4)
        let junk = try scratch.write("junk.dbs", rng.bytes(300_000))
        let notBackup = try DBSTool.run(["restore", junk, "--to", scratch.file("out")])
        #expect([1, 4].contains(notBackup.status), "\(notBackup.status) \(notBackup.stderr)")
        #expect(try DBSTool.run(["inspect", junk]).status != 0)

        let backup = try smallBackup(scratch)
        let size = try #require(FileManager.default.attributesOfItem(atPath: backup)[.size] as? Int)
        // 60% kept: copy A is whole, restore heals.
        let sixty = scratch.file("sixty.dbs")
        try FileManager.default.copyItem(atPath: backup, toPath: sixty)
        truncate(sixty, off_t(size * 6 / 10))
        let healed = try DBSTool.run(["restore", sixty, "--to", scratch.file("sixty-out"), "--json"])
        #expect(healed.status == 0, "\(healed.stderr)")
        #expect(try healed.json()["healed"] as? Bool == true)
        // 30% kept: part of copy A and all of copy B are gone: refused, exit 4, nothing wrong written.
        let thirty = scratch.file("thirty.dbs")
        try FileManager.default.copyItem(atPath: backup, toPath: thirty)
        truncate(thirty, off_t(size * 3 / 10))
        let refused = try DBSTool.run(["restore", thirty, "--to", scratch.file("thirty-out")])
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(try DBSTool.run(["validate", thirty], passphrase: nil).status == 4)
    }

    @Test func damageBeyondRepairExits4WithOffsets() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)
        // The same 200 KiB destroyed in both copies: 50 shards of one stripe, beyond 16 parity.
        try damage(backup, ["--zero-in-copy", "A:100000:204800", "--zero-in-copy", "B:100000:204800"])
        let result = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(result.status == 4)
        #expect(result.stderr.contains("offset"), "the message names where: \(result.stderr)")
        let validated = try DBSTool.run(["validate", backup, "--json"], passphrase: nil)
        #expect(validated.status == 4)
        #expect(try validated.json()["ok"] as? Bool == false)
        #expect(try DBSTool.run(["repair", backup, scratch.file("r.dbs")]).status == 4)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("r.dbs")))
    }
    /// Issue 12, item 1: a single-copy backup with shards of one stripe zeroed trapped
    /// validate, restore and repair in the column rounds. The report's recipe (dd bs=4096
    /// seek=2 count=17: the stripe header and 15 shards) is within the parity and heals;
    /// 17 shards (seek=4) are one beyond it: exit 4 with the lost shards' offsets, and
    /// nothing left behind.
    @Test func singleCopyBeyondParityExits4WithOffsets() throws {
        let scratch = try Scratch()
        var rng = SeededGenerator(seed: 12)
        try scratch.write("in/b.bin", rng.bytes(2_000_000))
        let pristine = scratch.file("pristine.dbs")
        let made = try DBSTool.run(["backup", "--copies", "1", pristine, scratch.file("in")] + DBSTool.fastKDF)
        #expect(made.status == 0, "\(made.stderr)")
        func zeroed(_ name: String, block: UInt64) throws -> String {
            let path = scratch.file(name)
            try FileManager.default.copyItem(atPath: pristine, toPath: path)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seek(toOffset: block * 4096)
            handle.write(Data(count: 17 * 4096))
            try handle.close()
            return path
        }

        let healable = try zeroed("healable.dbs", block: 2)
        #expect(try DBSTool.run(["validate", healable], passphrase: nil).status == 0)
        let healed = try DBSTool.run(["restore", healable, "--to", scratch.file("healed")])
        #expect(healed.status == 0, "\(healed.stderr)")
        try expectSameTree(scratch.file("in"), scratch.file("healed/in"))

        let lost = try zeroed("lost.dbs", block: 4)
        let validated = try DBSTool.run(["validate", lost], passphrase: nil)
        #expect(validated.status == 4, "\(validated.stderr)")
        #expect(validated.stderr.contains("offset"), "\(validated.stderr)")
        let restored = try DBSTool.run(["restore", lost, "--to", scratch.file("out")])
        #expect(restored.status == 4, "\(restored.stderr)")
        #expect(restored.stderr.contains("offset"), "\(restored.stderr)")
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: scratch.file("out"))) ?? [])
        #expect(leftovers.isEmpty, "nothing restored, no temp file: \(leftovers)")
        #expect(try DBSTool.run(["repair", lost, scratch.file("r.dbs")]).status == 4)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("r.dbs")))
    }
    /// Issue 12, item 5: a destroyed head is named in validate's text and JSON.
    @Test func validateNamesADestroyedHead() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)
        let handle = try #require(FileHandle(forWritingAtPath: backup))
        try handle.seek(toOffset: 0)
        handle.write(Data(count: 8192))
        try handle.close()
        let text = try DBSTool.run(["validate", backup], passphrase: nil)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("healable") && text.stderr.contains("damaged head: 0"), "\(text.stderr)")
        let json = try DBSTool.run(["validate", backup, "--json"], passphrase: nil)
        #expect(try json.json()["heads_damaged"] as? [Int] == [0], "\(json.stdout)")
    }
    /// Issue 12, item 4: a backup asking for more Argon2id memory than --max-kdf-memory
    /// is refused at once, the message naming the parameters and the option.
    @Test func kdfCostAboveTheCapIsRefusedNamingTheOption() throws {
        let scratch = try Scratch()
        let backup = try smallBackup(scratch)  // m = 8192 KiB, t = 1
        let refused = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--max-kdf-memory", "4096"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("t = 1, m = 8192 KiB"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--max-kdf-memory"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out/in")))
        #expect(try DBSTool.run(["list", backup, "--max-kdf-memory", "8192", "--max-kdf-time", "1"]).status == 0)
        #expect(
            try DBSTool.run(
                ["validate", backup, "--passphrase", "correct horse", "--max-kdf-time", "0"],
                passphrase: nil
            ).status == 1)
    }
}
