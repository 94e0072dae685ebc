import ArgumentParser
import DBSKit
import Foundation

struct ListCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a backup's entries (needs the passphrase: names are encrypted).",
        discussion: """
            One line per entry: kind, mode, size, modification time, SHA-256, path (and -> link \
            target). Names are shown escaped, so that each entry is one line and the exact bytes \
            can be read off: a byte that is not part of valid UTF-8 as \\xNN (a name need not be \
            UTF-8: it is stored and restored byte for byte), control characters as \\n, \\t, \
            \\r, \\xNN or \\u{NN}, a backslash as \\\\. With --json, `path` and `link_target` \
            are the text (a byte that is not UTF-8 replaced by U+FFFD), and where a name is not \
            valid UTF-8, `path_bytes` / `link_target_bytes` hold its exact bytes in base64.
            """)

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var kdfCap: KDFCapOptions
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Entry: Encodable {
        var path: String
        /// Only when the path is not valid UTF-8: its bytes, base64.
        var pathBytes: String?
        var kind: String
        var size: UInt64
        var mode: String
        var mtime: Double
        var sha256: String?
        var linkTarget: String?
        var linkTargetBytes: String?
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let secret = try passphrase.resolve(confirm: false)
        let payload = try OpenedBackup(
            path: backup, passphrase: secret, threads: try engine.threadCount(),
            kdfCap: kdfCap.cap
        ).payload
        var entries = [Entry]()
        while let metadata = try payload.nextEntry() {
            try payload.skipContent()
            // Only content-bearing entries have a meaningful digest.
            let hasContent = metadata.kind == .file || metadata.kind == .records
            let digest = hasContent ? payload.lastEntryDigest : nil
            let entry = Entry(
                path: metadata.path.lossyString, pathBytes: metadata.path.jsonBytes,
                kind: metadata.kind.description, size: payload.lastEntrySize ?? metadata.size,
                mode: String(metadata.mode & 0o7777, radix: 8),
                mtime: Double(metadata.modificationTime.seconds)
                    + Double(metadata.modificationTime.nanoseconds) / 1e9,
                sha256: digest.map { $0.map { String(format: "%02x", $0) }.joined() },
                linkTarget: metadata.linkTarget?.lossyString, linkTargetBytes: metadata.linkTarget?.jsonBytes)
            if json {
                entries.append(entry)
            } else {
                let mtime = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: entry.mtime))
                let target = metadata.linkTarget.map { " -> " + $0.escaped } ?? ""
                let name: String = metadata.path.escaped
                let digest = entry.sha256 ?? String(repeating: "-", count: 64)
                let columns =
                    "\(entry.kind.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                    + "\(entry.mode.leftPadded(4)) \(String(entry.size).leftPadded(12)) \(mtime) \(digest) "
                print(columns + name + target)
            }
        }
        if json {
            struct Listing: Encodable { var entries: [Entry] }
            try printJSON(Listing(entries: entries))
        }
    }
}

extension ListCommand {
    /// Text as one line: the escaping of names (`PathBytes.escaped`: control
    /// characters (C0, DEL, C1) and the backslash escaped C-style, \\n, \\t, \\x1b,
    /// \\u{85}), so that it cannot forge lines or drive the terminal. JSON output needs
    /// none of this: it escapes by itself.
    static func escaped(_ text: String) -> String { PathBytes(text).escaped }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
