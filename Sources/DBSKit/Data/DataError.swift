import DBSPayload
import DBSSystem

/// What went wrong reading or restoring a file tree. Every case names the path.
///
/// `isInputOutput` separates the failures of the machine and the caller's files (a
/// missing input, an unreadable file, a full disk, a restore target that exists:
/// `BackupError.Category.inputOutput`, exit code 5 in the CLI and `DBS_ERR_IO` in the
/// C ABI) from refusals and misuse (exit code 1, `DBS_ERR_FAILURE`).
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An input given to back up does not exist.
    case missingInput(path: String)
    /// A system call failed on `path`; `errno` says why (EACCES, ENOSPC, EIO...).
    case io(path: String, operation: String, errno: Int32)
    /// A file changed size while it was being read.
    case fileChanged(path: String, reason: String)
    /// An input that cannot be backed up as given (the root directory, a name
    /// that is not UTF-8...).
    case invalidInput(path: String, reason: String)
    /// Two inputs would produce the same entry path.
    case duplicateEntry(path: String)
    /// A payload entry whose path would leave the destination, or pass through a
    /// symlink, or is not a plain relative path. Refused, nothing written.
    case unsafePath(path: String, reason: String)
    /// The entry's target exists and overwriting was not asked for.
    case alreadyExists(path: String)
    /// The target exists as something the entry cannot replace (a directory
    /// where a file should go).
    case cannotReplace(path: String, reason: String)

    /// Input or output failures of the machine, or a target that exists (as
    /// `BackupError.destinationExists` is for a backup file), as opposed to refusals.
    public var isInputOutput: Bool {
        switch self {
        case .missingInput, .io, .fileChanged, .alreadyExists: true
        case .invalidInput, .duplicateEntry, .unsafePath, .cannotReplace: false
        }
    }

    public var description: String {
        switch self {
        case let .missingInput(path):
            "input '\(path)' does not exist"
        case let .io(path, operation, code):
            "\(operation) '\(path)': \(String(cString: strerror(code)))"
        case let .fileChanged(path, reason):
            "'\(path)' changed while being read: \(reason)"
        case let .invalidInput(path, reason):
            "cannot back up '\(path)': \(reason)"
        case let .duplicateEntry(path):
            "two inputs would both be stored as '\(path)'"
        case let .unsafePath(path, reason):
            "refused entry '\(path)': \(reason)"
        case let .alreadyExists(path):
            "'\(path)' already exists (use overwrite / --force to replace it)"
        case let .cannotReplace(path, reason):
            "cannot restore '\(path)': \(reason)"
        }
    }
}

extension EntryPath {
    /// The components of `path` as a restore creates them, or `DataError.unsafePath`
    /// saying why it would not.
    static func restorable(_ path: PathBytes) throws(DataError) -> [PathBytes] {
        do throws(Refusal) {
            return try components(of: path)
        } catch {
            throw .unsafePath(path: path.description, reason: error.reason)
        }
    }
}
