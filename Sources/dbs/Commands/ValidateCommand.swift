import ArgumentParser
import DBSKit
import Foundation

struct ValidateCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a backup: its structure without a passphrase, everything with one.",
        discussion: """
            Without a passphrase source: every checksum of both copies and the Reed-Solomon \
            consistency, reported as healthy, healable or unrecoverable. With one (--passphrase, \
            $DBS_PASSPHRASE, --passphrase-file, --passphrase-stdin) it also decrypts every chunk \
            and checks every file's SHA-256, writing nothing. Exit 0 healthy or healable, 4 \
            unrecoverable, 3 wrong passphrase.
            """)

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var kdfCap: KDFCapOptions
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Report: Encodable {
        var ok: Bool
        var healed: Bool
        var status: String
        var decrypted: Bool
        var entries: Int?
        var bytes: UInt64?
        var repair: RepairCounts
        /// Heads (0, 1, 2) unreadable, corrected or disagreeing with the other heads.
        var headsDamaged: [Int]
        /// What a restore would refuse in the ciphertext stream, found without the key.
        var streamDefects: [String]
        /// Runs of stripes found off their nominal offsets (bytes inserted or dropped).
        var shifted: [ShiftedRun]
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let threads = try engine.threadCount()
        let structural = try BackupValidator.validate(path: backup, threads: threads)
        var report = Report(
            ok: structural.isRecoverable, healed: false, status: structural.status,
            decrypted: false, repair: RepairCounts(structural.report),
            headsDamaged: structural.report.headsDamaged,
            streamDefects: structural.report.streamDefects,
            shifted: structural.report.shiftedRuns)
        report.healed = report.repair.healed

        if structural.isRecoverable && passphrase.hasExplicitSource {
            let secret = try passphrase.resolve(confirm: false)
            let contents = try OpenedBackup(path: backup, passphrase: secret, threads: threads, kdfCap: kdfCap.cap)
                .verifyContents()
            report.decrypted = true
            report.entries = Int(contents.entryCount)
            report.bytes = contents.contentBytes
        }

        if json {
            try printJSON(report)
        } else {
            var line = "dbs: \(backup): \(report.status)"
            if report.healed { line += " (\(report.repair.summary))" }
            if !report.headsDamaged.isEmpty {
                line +=
                    "; damaged head\(report.headsDamaged.count == 1 ? "" : "s"): "
                    + report.headsDamaged.map(String.init).joined(separator: ", ")
            }
            if !report.shifted.isEmpty {
                line += "; found shifted: " + report.shifted.map(\.description).joined(separator: "; ")
            }
            if let entries = report.entries, let bytes = report.bytes {
                line += "; decrypted \(entries) entries, \(formatBytes(bytes)), every hash checks out"
            }
            note(line)
        }
        if !report.ok {
            let lost = report.repair.lostShards
            let shown = lost.prefix(20).map(\.description).joined(separator: "; ")
            let more = lost.count > 20 ? " and \(lost.count - 20) more" : ""
            let defects = structural.report.streamDefects.joined(separator: "; ")
            throw CLIFailure(
                .damaged,
                "\(backup) is damaged beyond repair: "
                    + (lost.isEmpty ? (defects.isEmpty ? "see the report" : defects) : shown + more))
        }
    }
}

extension ValidationReport {
    /// "healthy", "healable" or "unrecoverable": the `status` field of `--json`.
    var status: String {
        switch self {
        case .healthy: "healthy"
        case .healable: "healable"
        case .unrecoverable: "unrecoverable"
        }
    }

    var isRecoverable: Bool {
        if case .unrecoverable = self { return false }
        return true
    }
}
