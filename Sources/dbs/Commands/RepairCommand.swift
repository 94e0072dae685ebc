import ArgumentParser
import DBSKit

struct RepairCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Write a fresh, fully healthy backup from a damaged but healable one.",
        discussion: """
            Needs no passphrase: healing works on the encrypted data. Both copies and all parity \
            are rebuilt, and the new file is verified before it is renamed into place.
            """)

    @Argument(help: ArgumentHelp("The damaged backup.", valueName: "backup")) var backup: String
    @Argument(help: ArgumentHelp("Where to write the repaired backup.", valueName: "output")) var output: String
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Replace an existing OUTPUT.") var force = false
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Report: Encodable {
        var ok = true
        var healed: Bool
        var output: String
        var repair: RepairCounts
    }

    func execute() throws {
        try FileSystem.requireReadable(backup)
        if !force && FileSystem.exists(output) {
            throw CLIFailure(wrapping: BackupError.destinationExists(output))
        }
        let repairReport = try BackupRepairer.repair(
            source: backup, destination: output,
            threads: try engine.threadCount(), overwrite: force)
        let counts = RepairCounts(repairReport)
        let report = Report(healed: counts.healed, output: output, repair: counts)
        if json {
            try printJSON(report)
        } else {
            note(
                "dbs: wrote a healthy backup to \(output)"
                    + (counts.healed ? " (healed: \(counts.summary))" : " (the source was already healthy)"))
        }
    }
}
