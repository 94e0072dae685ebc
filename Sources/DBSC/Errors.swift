// Every entry point runs its body through `cCall`, which turns any Swift error into
// a status code and the calling thread's last-error message: no Swift error or type
// crosses the boundary.

internal import CDBSHeader
import DBSKit
import DBSSystem

/// A refusal of the C layer itself: an argument the caller got wrong. The message
/// names the argument and its value.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Whose bytes a payload error is about: a writer's caller handing over a bad entry
/// is misuse (DBS_ERR_USAGE); a reader meeting a bad frame is reading damage
/// (DBS_ERR_DAMAGED).
enum PayloadSide {
    case writing
    case reading
}

enum Status {
    static let ok = Int32(DBS_OK)
    static let failure = Int32(DBS_ERR_FAILURE)
    static let usage = Int32(DBS_ERR_USAGE)
    static let wrongPassphrase = Int32(DBS_ERR_WRONG_PASSPHRASE)
    static let damaged = Int32(DBS_ERR_DAMAGED)
    static let io = Int32(DBS_ERR_IO)

    /// The status code of an engine error of `category`: the one place the C ABI maps
    /// the engine's categories to its codes.
    static func of(_ category: BackupError.Category) -> Int32 {
        switch category {
        case .wrongPassphrase: wrongPassphrase
        case .damaged: damaged
        case .inputOutput: io
        case .invalidArgument: usage
        case .unreadable, .misuse, .internalFailure: failure
        }
    }

    /// The status code of `error`.
    static func of(_ error: any Error, side: PayloadSide) -> Int32 {
        switch error {
        case is UsageError:
            return usage
        case let error as BackupError:
            return of(error.category)
        case let error as DataError:
            return error.isInputOutput ? io : failure
        case let error as PayloadError:
            guard side == .writing else { return damaged }
            switch error {
            case .invalidState, .invalidEntry, .contentSizeMismatch, .invalidMetadata: return usage
            default: return failure
            }
        case is ReedSolomonError:
            return usage
        default:
            return failure
        }
    }
}

/// The message of the last failed call, one malloc'd C string per thread, kept in a
/// pthread key whose destructor frees it when the thread exits. The key is the
/// library's one piece of global state besides the Reed-Solomon tables, created on
/// first use (a Swift global is initialized once, thread-safely).
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Failure (out of keys) leaves key 0 unusable: setspecific then fails and
        // dbs_last_error() returns "", which is the documented "no message".
        _ = pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        let previous = pthread_getspecific(key)
        let copy = strdup(message)
        if pthread_setspecific(key, copy) == 0 {
            free(previous)
        } else {
            free(copy)
        }
    }

    static var current: UnsafePointer<CChar> {
        if let message = pthread_getspecific(key) {
            return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
        }
        return staticCString("")
    }
}

/// Runs one entry point's body: `Status.ok`, or the error's status with its message
/// recorded for `dbs_last_error()`.
func cCall(side: PayloadSide = .reading, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok
    } catch {
        if case BackupError.kdfCostAboveCap = error {
            LastError.set(
                "\(error); if you trust this backup, raise options->max_kdf_memory_kib and "
                    + "options->max_kdf_time_cost (the *_with_options functions)")
        } else {
            LastError.set(String(describing: error))
        }
        return Status.of(error, side: side)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_last_error")
#endif
public func dbs_last_error() -> UnsafePointer<CChar> {
    LastError.current
}
