import DBSTestSupport
import Foundation
import Testing

@Suite("dbs backup and restore, end to end", .serialized)
struct CLIRoundTripTests {
    /// A tree with every kind DBS keeps: modes, ns mtimes, symlinks, empty dirs, unicode.
    static func makeTree(in scratch: Scratch) throws -> String {
        var rng = SeededGenerator(seed: 11)
        let root = scratch.file("tree")
        try scratch.write("tree/text/a.txt", rng.text(300_000))
        try scratch.write("tree/text/ünïcødé – name.txt", Array("unicode survives\n".utf8))
        try scratch.write("tree/bin/random.bin", rng.bytes(3_000_001), mode: 0o600)
        try scratch.write("tree/bin/tool.sh", Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try scratch.write("tree/empty-file", [])
        try FileManager.default.createDirectory(
            atPath: scratch.file("tree/empty/dir"), withIntermediateDirectories: true)
        symlink("text/a.txt", scratch.file("tree/relative-link"))
        symlink("/etc/hostname", scratch.file("tree/absolute-link"))
        symlink("does/not/exist", scratch.file("tree/dangling-link"))
        for (i, path) in ["tree/text/a.txt", "tree/bin/random.bin", "tree/empty-file", "tree/relative-link"]
            .enumerated()
        {
            setModificationTime(scratch.file(path), seconds: 1_600_000_000 + i, nanoseconds: 123_456_789 + i)
        }
        chmod(scratch.file("tree/empty"), 0o700)
        return root
    }

    @Test func treeRoundTripsByteForByte() throws {
        let scratch = try Scratch()
        let tree = try Self.makeTree(in: scratch)
        let backup = scratch.file("tree.dbs")
        let made = try DBSTool.run(["backup", backup, tree, "--threads", "2", "--json"] + DBSTool.fastKDF)
        #expect(made.status == 0, "\(made.stderr)")
        let summary = try made.json()
        #expect(summary["ok"] as? Bool == true)
        #expect((summary["entries"] as? Int ?? 0) >= 10)

        var info = stat()
        stat(backup, &info)
        #expect(info.st_mode & 0o777 == 0o600, "a backup is written mode 0600")

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let report = try restored.json()
        #expect(report["healed"] as? Bool == false)
        try expectSameTree(tree, scratch.file("out/tree"))
    }

    @Test func largeSparseFileRoundTrips() throws {
        let scratch = try Scratch()
        let path = scratch.file("sparse/big.img")
        try FileManager.default.createDirectory(atPath: scratch.file("sparse"), withIntermediateDirectories: true)
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        #expect(ftruncate(fd, 1 << 30) == 0)
        let marker = Array("the middle of a sparse file".utf8)
        _ = marker.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 512 << 20) }
        close(fd)
        let backup = scratch.file("sparse.dbs")
        let made = try DBSTool.run(["backup", backup, scratch.file("sparse")] + DBSTool.fastKDF)
        #expect(made.status == 0, "\(made.stderr)")
        var info = stat()
        stat(backup, &info)
        #expect(info.st_size < 64 << 20, "zeros compress: the backup stays small (\(info.st_size) bytes)")

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(restored.status == 0, "\(restored.stderr)")
        let out = scratch.file("out/sparse/big.img")
        var outInfo = stat()
        stat(out, &outInfo)
        #expect(outInfo.st_size == 1 << 30)
        let check = open(out, O_RDONLY)
        var buffer = [UInt8](repeating: 0, count: marker.count)
        _ = buffer.withUnsafeMutableBytes { pread(check, $0.baseAddress!, $0.count, 512 << 20) }
        close(check)
        #expect(buffer == marker)
    }

    @Test func healedDamageRestoresAndSaysSo() throws {
        let scratch = try Scratch()
        let tree = try Self.makeTree(in: scratch)
        let backup = scratch.file("tree.dbs")
        #expect(try DBSTool.run(["backup", backup, tree] + DBSTool.fastKDF).status == 0)
        try damage(backup, ["--flip-rate", "1e-5", "--zero-in-copy", "A:20000:200000", "--seed", "3"])

        let validated = try DBSTool.run(["validate", backup, "--json"], passphrase: nil)
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(try validated.json()["healed"] as? Bool == true)

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let report = try restored.json()
        #expect(report["healed"] as? Bool == true)
        try expectSameTree(tree, scratch.file("out/tree"))

        // repair writes a clean file that validates healthy and restores.
        let repaired = scratch.file("repaired.dbs")
        let repair = try DBSTool.run(["repair", backup, repaired, "--json"], passphrase: nil)
        #expect(repair.status == 0, "\(repair.stderr)")
        let clean = try DBSTool.run(["validate", repaired, "--json"])
        #expect(clean.status == 0)
        #expect(try clean.json()["healed"] as? Bool == false)
        #expect(try clean.json()["decrypted"] as? Bool == true)
    }

    @Test func standardInputAndOutputStream() throws {
        let scratch = try Scratch()
        var rng = SeededGenerator(seed: 5)
        let data = Data(rng.text(2_500_000) + rng.bytes(1_000_000))
        let made = try DBSTool.run(["backup", "-", "-", "--name", "dump.sql"] + DBSTool.fastKDF, stdin: data)
        #expect(made.status == 0, "\(made.stderr)")
        let backup = scratch.file("stream.dbs")
        try made.stdout.write(to: URL(fileURLWithPath: backup))

        let listed = try DBSTool.run(["list", backup, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let entries = try #require(try listed.json()["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["path"] as? String == "dump.sql")
        #expect(entries.first?["size"] as? Int == data.count)

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.file("out/dump.sql")) == data)
    }

    @Test func inspectNeedsNoPassphraseAndNamesTheGeometry() throws {
        let scratch = try Scratch()
        try scratch.write("f", Array(repeating: 7, count: 100_000))
        let backup = scratch.file("f.dbs")
        #expect(
            try DBSTool.run(
                ["backup", backup, scratch.file("f"), "--parity", "32", "--checksum", "blake2b"]
                    + DBSTool.fastKDF
            ).status == 0)
        let inspected = try DBSTool.run(["inspect", backup, "--json"], passphrase: nil)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let info = try inspected.json()
        #expect(info["format_version"] as? Int == 1)
        #expect(info["parity_shards"] as? Int == 32)
        #expect(info["data_shards"] as? Int == 223)
        #expect(info["shard_size"] as? Int == 4096)
        #expect(info["checksum"] as? String == "blake2b")
        let copies = try #require(info["copies"] as? [[String: Any]])
        #expect(copies.count == 2)
        #expect(copies.allSatisfy { ($0["offset"] as? Int ?? -1) >= 0 && ($0["length"] as? Int ?? 0) > 0 })
        #expect(!inspected.stdoutText.contains(scratch.path), "names are encrypted, not public")
    }

    @Test func versionNamesTheBackend() throws {
        let result = try DBSTool.run(["version", "--json"], passphrase: nil)
        #expect(result.status == 0)
        let info = try result.json()
        #expect(["isal", "simd", "scalar"].contains(info["rs_backend"] as? String ?? ""))
        let forced = try DBSTool.run(["version", "--json"], passphrase: nil, environment: ["DBS_RS_BACKEND": "scalar"])
        #expect(try forced.json()["rs_backend"] as? String == "scalar")
    }
}
