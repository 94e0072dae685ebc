import ArgumentParser
import DBSKit
import Foundation

struct ListCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a backup's entries (needs the passphrase: names are encrypted).")

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var kdfCap: KDFCapOptions
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Entry: Encodable {
        var path: String
        var kind: String
        var size: UInt64
        var mode: String
        var mtime: Double
        var sha256: String?
        var linkTarget: String?
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let secret = try passphrase.resolve(confirm: false)
        let reader = try BackupReader(path: backup, passphrase: secret, threads: try engine.threadCount(),
                                      kdfCap: kdfCap.cap)
        let payload = try PayloadReader(source: reader)
        var entries = [Entry]()
        while let metadata = try payload.nextEntry() {
            try payload.skipContent()
            // Only content-bearing entries have a meaningful digest.
            let hasContent = metadata.kind == .file || metadata.kind == .records
            let digest = hasContent ? payload.lastEntryDigest : nil
            let entry = Entry(
                path: metadata.path, kind: metadata.kind.description, size: payload.lastEntrySize ?? metadata.size,
                mode: String(metadata.mode & 0o7777, radix: 8),
                mtime: Double(metadata.modificationTime.seconds)
                    + Double(metadata.modificationTime.nanoseconds) / 1e9,
                sha256: digest.map { $0.map { String(format: "%02x", $0) }.joined() },
                linkTarget: metadata.linkTarget)
            if json {
                entries.append(entry)
            } else {
                let mtime = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: entry.mtime))
                print("\(entry.kind.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                      + "\(entry.mode.leftPadded(4)) \(String(entry.size).leftPadded(12)) \(mtime) "
                      + "\(entry.sha256 ?? String(repeating: "-", count: 64)) \(Self.escaped(entry.path))"
                      + (entry.linkTarget.map { " -> \(Self.escaped($0))" } ?? ""))
            }
        }
        if json {
            struct Listing: Encodable { var entries: [Entry] }
            try printJSON(Listing(entries: entries))
        }
    }
}

extension ListCommand {
    /// A name as one line of text: control characters (C0, DEL, C1) and the backslash
    /// escaped C-style (\\n, \\t, \\x1b, \\u{85}), so that a name cannot forge lines
    /// or drive the terminal. JSON output needs none of this: it escapes by itself.
    static func escaped(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{0}"..."\u{1F}", "\u{7F}":
                out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            case "\u{80}"..."\u{9F}", "\u{2028}", "\u{2029}":
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
