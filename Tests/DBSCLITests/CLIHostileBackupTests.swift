import Foundation
import Testing

@testable import DBSKit
@testable import DBSPayload

/// Backups whose entries try to write outside the restore directory: made with the
/// engine's own writer (the CLI never produces such paths), restored with the CLI.
@Suite("dbs restore refuses entries that escape the target")
struct CLIHostileBackupTests {
    static let passphrase = "correct horse"

    /// A valid, encrypted backup holding exactly `entries` (content "pwned" for files).
    func hostileBackup(at path: String, _ entries: [EntryMetadata]) throws {
        let options = BackupOptions(threads: 1, kdf: KDFParameters(timeCost: 1, memoryKiB: 8192, parallelism: 1))
        let writer = try BackupWriter(
            destination: path, passphrase: SecureBytes(Array(Self.passphrase.utf8)),
            options: options)
        let payload = try PayloadWriter(sink: writer, metadata: [:])
        payload.checksEntryPaths = false  // the engine's writer refuses these paths itself
        for entry in entries {
            try payload.beginEntry(entry)
            if entry.kind == .file { try payload.writeContent(Array("pwned".utf8)) }
            try payload.endEntry()
        }
        _ = try payload.finish()
        _ = try writer.finish()
    }

    static func file(_ path: String) -> EntryMetadata {
        EntryMetadata(
            path: PathBytes(path), kind: .file, mode: 0o644,
            modificationTime: FileTimestamp(seconds: 1_700_000_000, nanoseconds: 0), size: 5)
    }

    static func link(_ path: String, to target: String) -> EntryMetadata {
        EntryMetadata(
            path: PathBytes(path), kind: .symlink, mode: 0o777,
            modificationTime: FileTimestamp(seconds: 1_700_000_000, nanoseconds: 0), linkTarget: PathBytes(target))
    }

    @Test(arguments: [
        ["../escaped"],
        ["a/../../escaped"],
        ["/ABSOLUTE/escaped"],
        ["link->OUTSIDE", "link/escaped"],
    ])
    func escapeIsRefused(_ spec: [String]) throws {
        let scratch = try Scratch()
        let outside = scratch.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let entries: [EntryMetadata] = spec.map { item in
            let resolved = item.replacingOccurrences(of: "/ABSOLUTE", with: outside)
            if let arrow = resolved.range(of: "->") {
                return Self.link(
                    String(resolved[..<arrow.lowerBound]),
                    to: String(resolved[arrow.upperBound...]).replacingOccurrences(of: "OUTSIDE", with: outside))
            }
            return Self.file(resolved)
        }
        let backup = scratch.file("hostile.dbs")
        try hostileBackup(at: backup, entries)

        let target = scratch.file("restore/here")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let result = try DBSTool.run(["restore", backup, "--to", target], passphrase: Self.passphrase)
        #expect(result.status != 0, "an escaping entry must be refused")
        #expect(result.stderr.contains("escaped"), "the message names the entry: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("restore/escaped")))
        #expect(!FileManager.default.fileExists(atPath: outside + "/escaped"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }
}
