import ArgumentParser
import DBSKit
import Foundation

struct RestoreCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup's entries under a directory, healing damage on the way.",
        discussion: """
            Each file is written under a temporary name and renamed into place only after its \
            SHA-256 checks out. Entries that would escape the directory are refused; existing \
            files are kept unless --force. Exit 0 also when damage was healed (and it says so); \
            exit 4 when it cannot be.
            """)

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @Option(help: ArgumentHelp("The directory to restore into.", valueName: "dir")) var to = "."
    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var kdfCap: KDFCapOptions
    @Flag(help: "Decrypt and check everything, write nothing.") var dryRun = false
    @Flag(help: "Replace existing files.") var force = false
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
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let secret = try passphrase.resolve(confirm: false)
        let threads = try engine.threadCount()
        let reader = try BackupReader(path: backup, passphrase: secret, threads: threads, kdfCap: kdfCap.cap)
        let progress = ProgressLine(label: "restore", total: nil, quiet: quiet || json)
        let payload = try PayloadReader(source: ProgressSource(reader, progress: progress))
        let summary = try FileTreeWriter(destination: to, overwrite: force, dryRun: dryRun).restore(from: payload)
        progress.finish()

        let counts = RepairCounts(reader.repairReport)
        let report = Report(healed: counts.healed, dryRun: dryRun, destination: to,
                            entries: summary.entries, bytes: summary.bytes, repair: counts)
        if json {
            try printJSON(report)
        } else if !quiet {
            let verb = dryRun ? "checked" : "restored"
            note("dbs: \(verb) \(report.entries) entries, \(formatBytes(report.bytes))"
                 + (dryRun ? "" : " into \(to)"))
            if counts.healed { note("dbs: healed damage: \(counts.summary)") }
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

    init(_ report: RepairReport) {
        healed = report.healed
        shardsFromOtherCopy = report.totalShardsFromOtherCopy
        shardsRebuilt = report.totalShardsRebuilt
        bytesCorrected = report.totalBytesCorrected
        headersRepaired = report.totalHeadersRepaired
        stripesLost = report.stripes.filter { !$0.lost.isEmpty }.count
        lostShards = report.lostShards
    }

    var summary: String {
        "\(shardsFromOtherCopy) shards taken from the other copy, \(shardsRebuilt) rebuilt by Reed-Solomon, "
            + "\(bytesCorrected) bytes corrected, \(headersRepaired) headers repaired"
    }
}
