import DBSTestSupport
import Foundation
import Testing

/// `dbs backup`, `list` and `restore` on names that are not UTF-8, NFC beside NFD,
/// control characters (`ByteNameTree`): stored, not skipped (exit 0), listed escaped
/// and losslessly in JSON, restored byte for byte.
@Suite("dbs on names that are bytes, end to end", .serialized)
struct CLIRoundTripByteNameTests {
    @Test func byteNamesRoundTripThroughTheCLI() throws {
        let scratch = try Scratch()
        let tree = Array(scratch.file("tree").utf8)
        try ByteNameTree.make(at: tree)
        defer {
            ByteNameTree.remove(Array(scratch.file("tree").utf8))
            ByteNameTree.remove(Array(scratch.file("out").utf8))
        }
        let backup = scratch.file("names.dbs")

        let made = try DBSTool.run(["backup", backup, scratch.file("tree"), "--json"] + DBSTool.fastKDF)
        #expect(made.status == 0, "no name is skipped any more: \(made.stderr)")
        let summary = try made.json()
        #expect(summary["ok"] as? Bool == true)
        #expect((summary["skipped"] as? [Any])?.isEmpty == true)
        #expect(summary["entries"] as? Int == 1 + ByteNameTree.entryCount)

        // Text: one line per entry whatever the names hold, every byte readable.
        let listed = try DBSTool.run(["list", backup])
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 1 + ByteNameTree.entryCount, "a name cannot forge a line")
        for shown in [
            "tree/\\xff-ff", "tree/lone-\\x80", "tree/\\xc0\\xae\\xc0\\xae", "tree/surrogate-\\xed\\xa0\\x80",
            "tree/caf\\xe9", "tree/cut-\\xe2\\x82", "tree/new\\nline", "tree/tab\\tand\\x1b[31mescape",
            "tree/c1-\\u{85}-next-line", "tree/back\\\\slash", "tree/\\xfe\\xff-dir/\\x80\\x81",
            "tree/link-\\xff -> \\xfe\\xff-dir/\\x80\\x81",
        ] {
            #expect(lines.contains { $0.hasSuffix(" " + shown) }, "\(shown) in \(listed.stdoutText)")
        }
        #expect(!listed.stdout.contains(0x1B), "no raw escape character reaches the terminal")

        // JSON: the text, and the exact bytes where the name is not UTF-8.
        let json = try DBSTool.run(["list", backup, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let entries = try #require(try json.json()["entries"] as? [[String: Any]])
        var paths: [[UInt8]: [String: Any]] = [:]
        for entry in entries {
            let text = try #require(entry["path"] as? String)
            if let encoded = entry["path_bytes"] as? String {
                let bytes = try #require(Data(base64Encoded: encoded))
                #expect(String(validating: Array(bytes), as: UTF8.self) == nil, "path_bytes only where needed")
                #expect(text == String(decoding: bytes, as: UTF8.self), "path is the lossy text of the bytes")
                paths[Array(bytes)] = entry
            } else {
                paths[Array(text.utf8)] = entry
            }
        }
        for name in ByteNameTree.invalidNames + ByteNameTree.textNames {
            #expect(paths[Array("tree/".utf8) + name] != nil, "\(name) listed exactly")
        }
        let link = try #require(paths[Array("tree/".utf8) + ByteNameTree.symlink])
        #expect(
            (link["link_target_bytes"] as? String).flatMap { Data(base64Encoded: $0) }
                == Data(ByteNameTree.symlinkTarget))

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(
            ByteNameTree.differences(
                try ByteNameTree.scan(tree), try ByteNameTree.scan(Array(scratch.file("out/tree").utf8))) == [])
    }

    /// `restore --salvage` names a lost entry exactly too: escaped in the text,
    /// `path_bytes` in the JSON.
    @Test func salvageReportsALostByteNameExactly() throws {
        let scratch = try Scratch()
        let tree = Array(scratch.file("tree").utf8)
        defer {
            ByteNameTree.remove(tree)
            ByteNameTree.remove(Array(scratch.file("salvage").utf8))
        }
        try #require(mkdir(scratch.file("tree"), 0o755) == 0)
        var rng = SeededGenerator(seed: 31)
        // As CLIAllOrNothingTests' tree (40 incompressible files of 256 KiB), each name
        // led by a byte that is not UTF-8.
        for i in 0..<40 {
            try ByteNameTree.write(tree + [0x2F, 0xFF] + Array("f\(i < 10 ? "0" : "")\(i)".utf8), rng.bytes(256 << 10))
        }
        let backup = scratch.file("tree.dbs")
        let made = try DBSTool.run(["backup", backup, scratch.file("tree")] + DBSTool.fastKDF)
        try #require(made.status == 0, "\(made.stderr)")
        try damage(backup, ["--zero-in-copy", "A:6400000:204800", "--zero-in-copy", "B:6400000:204800"])

        let salvaged = try DBSTool.run(["restore", backup, "--to", scratch.file("salvage"), "--salvage", "--json"])
        #expect(salvaged.status == 4, "\(salvaged.stderr)")
        let lost = try #require(try salvaged.json()["lost"] as? [[String: Any]])
        try #require(lost.count == 1)
        let bytes = try #require((lost[0]["path_bytes"] as? String).flatMap { Data(base64Encoded: $0) })
        #expect(Array(bytes.prefix(6)) == Array("tree/".utf8) + [0xFF] && bytes.count == 9, "\(lost)")
        #expect(lost[0]["path"] as? String == String(decoding: bytes, as: UTF8.self))
        let text = try DBSTool.run(["restore", backup, "--to", scratch.file("salvage-text"), "--salvage"])
        defer { ByteNameTree.remove(Array(scratch.file("salvage-text").utf8)) }
        #expect(
            text.stderr.contains("lost tree/\\xff" + String(decoding: bytes.suffix(3), as: UTF8.self) + ": bytes"),
            "\(text.stderr)")
    }

    @Test func listHelpSaysHowNamesAreEscaped() throws {
        let help = try DBSTool.run(["list", "--help"])
        #expect(help.stdoutText.contains("\\xNN"))
        #expect(help.stdoutText.contains("path_bytes"))
    }
}
