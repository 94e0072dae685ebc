import ArgumentParser
import DBSKit
import Foundation

struct RestoreCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup's entries under a directory, healing damage on the way.",
        discussion: """
            All or nothing: every entry waits, as an unnamed file (or a hidden temporary one), \
            until the whole backup has been read and verified, SHA-256 by SHA-256; then all take \
            their names. On any failure none does and nothing new remains. --salvage instead \
            places every entry that verifies and lists the ones that do not, with the byte \
            ranges lost (exit 4). Entries that would escape the directory are refused; existing \
            files are kept unless --force; set-user-ID and set-group-ID bits are kept only with \
            the owner they were set for. Exit 0 also when damage was healed (and it says so); \
            exit 4 when it cannot be.
            """)

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @Option(help: ArgumentHelp("The directory to restore into.", valueName: "dir")) var to = "."
    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var kdfCap: KDFCapOptions
    @Flag(help: "Decrypt and check everything, write nothing.") var dryRun = false
    @Flag(help: "Replace existing files (and apply the backup's modes and times to existing directories).")
    var force = false
    @Flag(help: "On damage beyond repair, keep every entry that verifies and list the lost ones (exit 4).")
    var salvage = false
    @Flag(help: "As root, restore owners by their recorded uid and gid, not by user and group name.")
    var numericOwner = false
    @Flag(help: "Print one JSON document on stdout.") var json = false
    @Flag(help: "No progress line.") var quiet = false

    struct Report: Encodable {
        var ok = true
        var healed: Bool
        var dryRun: Bool
        var destination: String
        var entries: UInt64
        var bytes: UInt64
        var repair: RepairCounts
        /// What was restored less than exactly (path and reason).
        var warnings: [Warning]
    }

    /// `path_bytes` as in `dbs list --json`: the exact bytes, base64, where the path
    /// is not valid UTF-8.
    struct Warning: Encodable {
        var path: String
        var pathBytes: String?
        var reason: String
    }

    /// `--salvage`'s report when not everything could be restored.
    struct SalvageReport: Encodable {
        var ok = false
        var salvaged = true
        var destination: String
        var entries: UInt64
        var bytes: UInt64
        var lost: [Lost]
        /// Entries after the damage could not be read at all: neither placed nor listed.
        var unreadAfterDamage: Bool
        var error: String
        var repair: RepairCounts

        struct Lost: Encodable {
            var path: String
            var pathBytes: String?
            /// [start, end) content byte ranges; end null when the size is unknown.
            var lostBytes: [[UInt64?]]
        }
    }

    func validate() throws {
        if salvage && dryRun {
            throw ValidationError("--salvage places what verifies; it cannot be combined with --dry-run")
        }
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let secret = try passphrase.resolve(confirm: false)
        let threads = try engine.threadCount()
        let opened = try OpenedBackup(path: backup, passphrase: secret, threads: threads, kdfCap: kdfCap.cap)
        let progress = ProgressLine(label: "restore", total: nil, quiet: quiet || json)
        let tree = FileTreeWriter(
            destination: to, overwrite: force, dryRun: dryRun, salvage: salvage,
            numericOwner: numericOwner, writeThreads: threads)
        let summary: RestoreSummary
        do {
            summary = try opened.restore(into: tree, progress: progress.advance)
        } catch let incomplete as RestoreIncomplete {
            progress.finish()
            try reportSalvage(incomplete, repair: RepairCounts(opened.repairReport))
            throw CLIFailure(wrapping: incomplete.cause)
        } catch {
            progress.finish()
            if !dryRun {
                note("dbs: nothing was restored (all or nothing; --salvage keeps the entries that verify)")
            }
            throw error
        }
        progress.finish()

        let counts = RepairCounts(opened.repairReport)
        let report = Report(
            healed: counts.healed, dryRun: dryRun, destination: to,
            entries: summary.entries, bytes: summary.bytes, repair: counts,
            warnings: summary.warnings.map {
                Warning(path: $0.path.lossyString, pathBytes: $0.path.jsonBytes, reason: $0.message)
            })
        if json {
            try printJSON(report)
        } else if !quiet {
            let verb = dryRun ? "checked" : "restored"
            note(
                "dbs: \(verb) \(report.entries) entries, \(formatBytes(report.bytes))"
                    + (dryRun ? "" : " into \(to)"))
            if counts.healed { note("dbs: healed damage: \(counts.summary)") }
            for warning in summary.warnings {
                note("dbs: warning: '\(warning.path.escaped)': \(ListCommand.escaped(warning.message))")
            }
        }
    }
}

extension RestoreCommand {
    func reportSalvage(_ incomplete: RestoreIncomplete, repair: RepairCounts) throws {
        let lost = incomplete.lost.map { entry in
            SalvageReport.Lost(
                path: entry.path.lossyString, pathBytes: entry.path.jsonBytes,
                lostBytes: entry.lostRanges.map { [$0.start, $0.end] })
        }
        let report = SalvageReport(
            destination: to, entries: incomplete.placed.entries, bytes: incomplete.placed.bytes,
            lost: lost, unreadAfterDamage: !incomplete.readToTheEnd,
            error: String(describing: CLIFailure(wrapping: incomplete.cause).message),
            repair: repair)
        if json {
            try printJSON(report)
            return
        }
        note("dbs: salvaged \(report.entries) entries, \(formatBytes(report.bytes)) into \(to)")
        for entry in incomplete.lost {
            let ranges = entry.lostRanges.map { "bytes \($0.start)-\($0.end.map(String.init) ?? "end")" }
            note("dbs: lost \(entry.path.escaped): \(ranges.joined(separator: ", "))")
        }
        if report.unreadAfterDamage {
            note("dbs: the entries after the damage could not be read: neither restored nor listed")
        }
    }
}

/// The repair counts `--json` reports for validate, restore and repair.
struct RepairCounts: Encodable {
    var healed: Bool
    var shardsFromOtherCopy: Int
    var shardsRebuilt: Int
    var bytesCorrected: Int
    var headersRepaired: Int
    var stripesLost: Int
    var lostShards: [LostShard]
    /// Stripe records found off their nominal offsets (per copy and stripe).
    var recordsShifted: Int

    init(_ report: RepairReport) {
        healed = report.healed
        shardsFromOtherCopy = report.totalShardsFromOtherCopy
        shardsRebuilt = report.totalShardsRebuilt
        bytesCorrected = report.totalBytesCorrected
        headersRepaired = report.totalHeadersRepaired
        stripesLost = report.stripes.filter { !$0.lost.isEmpty }.count
        lostShards = report.lostShards
        recordsShifted = report.stripes.reduce(0) { $0 + $1.shifted.count }
    }

    var summary: String {
        "\(shardsFromOtherCopy) shards taken from the other copy, \(shardsRebuilt) rebuilt by Reed-Solomon, "
            + "\(bytesCorrected) bytes corrected, \(headersRepaired) headers repaired"
            + (recordsShifted > 0 ? ", \(recordsShifted) stripe records found shifted" : "")
    }
}
