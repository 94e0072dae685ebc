import ArgumentParser
import DBSKit
import Foundation

/// `dbs`: one encrypted, redundant, self-healing backup file.
struct DBSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbs",
        abstract: "One encrypted backup file with two copies, Reed-Solomon parity and a checksum of every block.",
        discussion: """
            Passphrase sources, in order: --passphrase (weakest), $DBS_PASSPHRASE, --passphrase-file, \
            --passphrase-stdin, else a prompt when standard input is a terminal.

            Exit codes: 0 ok (clean or healed), 1 other failure, 2 usage, 3 wrong passphrase, \
            4 damaged beyond repair, 5 input or output error, 6 backup complete but some inputs were \
            skipped or changed while read.
            """,
        version: DBSKitVersion.string,
        subcommands: [
            BackupCommand.self, RestoreCommand.self, ValidateCommand.self, InspectCommand.self,
            ListCommand.self, RepairCommand.self, VersionCommand.self,
        ]
    )
}

/// Every subcommand does its work in `execute()`, throwing `CLIFailure` or an engine
/// error; `main` turns either into a message on stderr and the documented exit code.
protocol DBSSubcommand: ParsableCommand {
    func execute() throws
}

extension DBSSubcommand {
    func run() throws {
        do {
            try execute()
        } catch {
            throw CLIFailure(wrapping: error)
        }
    }
}

@main
enum Main {
    static func main() {
        // Fatal signals first: one sent from outside must end the process, never let it
        // exit 0 (FatalSignals). Then, before any thread exists: SIGINT/SIGTERM/SIGHUP
        // remove the named temporary files of the run before the signal ends it.
        FatalSignals.install()
        InterruptCleanup.install()
        signal(SIGPIPE, SIG_IGN)
        // With a file-size limit (ulimit -f), a write past it must fail with EFBIG and be
        // reported (exit 5, temp file removed) rather than kill the process mid-file.
        signal(SIGXFSZ, SIG_IGN)
        // The pipeline's 1 MiB buffers reuse freed heap pages instead of fresh mappings.
        AllocatorTuning.keepFreedMemory()
        do {
            var command = try DBSCommand.parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            note("dbs: \(failure.message)")
            exit(failure.status.rawValue)
        } catch {
            // ArgumentParser's own errors: help and version print and exit 0; usage
            // errors exit 2 (ArgumentParser's default would be 64).
            let code = DBSCommand.exitCode(for: error)
            if code == .success {
                DBSCommand.exit(withError: error)
            }
            note(DBSCommand.fullMessage(for: error))
            exit(code == .validationFailure ? ExitStatus.usage.rawValue : ExitStatus.failure.rawValue)
        }
    }
}
