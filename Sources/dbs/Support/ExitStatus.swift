import DBSKit

/// The exit codes of `dbs`: an interface scripts depend on, so they never change.
enum ExitStatus: Int32 {
    /// Success, including a restore or validate that healed damage.
    case ok = 0
    /// Any other failure.
    case failure = 1
    /// The command line was wrong, or no passphrase could be had without a terminal.
    case usage = 2
    /// The passphrase does not open this backup.
    case wrongPassphrase = 3
    /// The backup is damaged beyond what its redundancy can repair.
    case damaged = 4
    /// Reading an input or writing an output failed (missing, unreadable, disk full).
    case io = 5
    /// The backup is complete and verified, but some inputs were skipped or changed
    /// while read (listed in the summary and in --json `skipped` / `changed`).
    case incomplete = 6
}

extension ExitStatus {
    /// The exit status of an engine error of `category`: the one place the CLI maps
    /// the engine's categories to its codes.
    init(_ category: BackupError.Category) {
        switch category {
        case .wrongPassphrase: self = .wrongPassphrase
        case .damaged: self = .damaged
        case .inputOutput: self = .io
        case .invalidArgument: self = .usage
        case .unreadable, .misuse, .internalFailure: self = .failure
        }
    }
}

/// A failure `dbs` reports: one message for stderr and the exit status.
struct CLIFailure: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    static func usage(_ message: String) -> CLIFailure { CLIFailure(.usage, message) }
}

extension CLIFailure {
    /// The status and message for any error the engine throws.
    init(wrapping error: any Error) {
        switch error {
        case let failure as CLIFailure:
            self = failure
        case BackupError.destinationExists(let path), DataError.alreadyExists(let path):
            // An output error like any other (exit 5), and the CLI's flag, not the API's parameter.
            self.init(.io, "\(path) already exists; use --force to replace it")
        case BackupError.kdfCostAboveCap:
            self.init(
                .failure,
                "\(error); if you trust this backup, raise the cap with --max-kdf-memory KIB "
                    + "and --max-kdf-time PASSES")
        case let error as BackupError:
            self.init(ExitStatus(error.category), error.description)
        case let error as SecurityError:
            self.init(error == .wrongPassphrase ? .wrongPassphrase : .damaged, error.description)
        case let error as DataError:
            self.init(error.isInputOutput ? .io : .failure, error.description)
        case let error as PayloadError:
            // The payload is only read after every chunk passed its GCM tag, so a
            // malformed payload means a damaged or forged backup.
            self.init(.damaged, "the backup's contents are damaged: \(error)")
        default:
            self.init(.failure, String(describing: error))
        }
    }
}
