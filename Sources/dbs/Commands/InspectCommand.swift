import ArgumentParser
import DBSKit

struct InspectCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what is public in a backup, without a passphrase.")

    @Argument(help: ArgumentHelp("The backup file.", valueName: "backup")) var backup: String
    @Flag(help: "Print one JSON document on stdout.") var json = false

    func execute() throws {
        try FileSystem.requireReadable(backup)
        let info = try BackupInspector.inspect(path: backup)
        let report = InspectReport(info)
        if json {
            try printJSON(report)
        } else {
            print(report.text)
        }
    }
}
