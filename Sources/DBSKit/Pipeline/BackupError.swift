import DBSIntegrity
import DBSSecurity

/// Why a backup could not be written, read, validated or repaired. The cases keep
/// apart what a user must act on differently; `category` groups them by what they
/// mean, which each front end (the CLI's exit status, the C ABI's result code) maps
/// once to its own codes. An error that stands for another one (a read-back that
/// failed, an unexpected library error) keeps it as a value, as swift-nio's
/// `FileSystemError` keeps its cause.
public enum BackupError: Error, CustomStringConvertible, Sendable {
    /// The data key did not unwrap: the passphrase is wrong. Raised before any plaintext.
    case wrongPassphrase
    /// Some stripe could not be repaired; the report says which shards are lost where.
    case damagedBeyondRepair(RepairReport)
    /// The file is not a DBS backup (or nothing of its metadata survives); says why.
    case notABackup(String)
    /// A DBS backup of a format version this build does not read.
    case unsupportedVersion(UInt16)
    /// A payload chunk failed its GCM tag after repair: corruption or tampering.
    case corruptedChunk(index: UInt64)
    /// The ciphertext stream is malformed after repair (a sealed chunk out of bounds,
    /// the stream ending before its final chunk): corruption or tampering.
    case corruptedStream(String)
    case invalidOptions(String)
    /// Argon2id parameters (from options or from a file) outside the allowed bounds.
    case kdfParametersOutOfBounds(String)
    /// The backup's Argon2id parameters ask for more than the reader's cap: refused
    /// before any key derivation. The caller names the option that raises the cap.
    case kdfCostAboveCap(KDFParameters, KDFCostCap)
    /// A system call failed; `errno` tells a full disk (ENOSPC) from the rest.
    case io(path: String, operation: String, errno: Int32)
    /// The destination exists and overwriting was not asked for.
    case destinationExists(String)
    /// The file written did not read back as it was written (verify-after-write);
    /// nothing was put at the destination. Says what did not match.
    case verificationFailed(String)
    /// Verify-after-write's read-back of the file written threw `cause` (a stripe
    /// beyond repair with its report, a chunk that failed its tag); nothing was put at
    /// the destination.
    indirect case readBackFailed(BackupError)
    /// A write or finish on a writer that already failed, finished or was aborted.
    case writerClosed
    /// A library call failed unexpectedly: what was being done, and the error it threw
    /// (when there was one), kept as it was.
    case internalFailure(String = "", cause: (any Error)? = nil)

    public var description: String {
        switch self {
        case .wrongPassphrase:
            "wrong passphrase"
        case .damagedBeyondRepair(let report):
            "the backup is damaged beyond repair: \(report)"
        case .notABackup(let why):
            "not a DBS backup: \(why)"
        case .unsupportedVersion(let version):
            "unsupported DBS format version \(version) (this build reads version \(FormatVersion.current))"
        case .corruptedChunk(let index):
            "payload chunk \(index) failed authentication after repair: the backup is corrupted or was tampered with"
        case .corruptedStream(let why):
            "the backup's ciphertext stream is corrupted: \(why)"
        case .invalidOptions(let why):
            "invalid options: \(why)"
        case .kdfParametersOutOfBounds(let why):
            "key-derivation parameters out of bounds: \(why)"
        case let .kdfCostAboveCap(parameters, cap):
            "the backup's key derivation asks for Argon2id t = \(parameters.timeCost), "
                + "m = \(parameters.memoryKiB) KiB (\(Self.mebibytes(parameters.memoryKiB))), p = \(parameters.parallelism); "
                + "this reader spends at most t = \(cap.maximumTimeCost) and m = \(cap.maximumMemoryKiB) KiB "
                + "(\(Self.mebibytes(cap.maximumMemoryKiB))) on a file it cannot yet authenticate"
        case let .io(path, operation, errno):
            IOError(path: path, operation: operation, errno: errno).description
        case .destinationExists(let path):
            "\(path) already exists (pass overwrite to replace it)"
        case .verificationFailed(let why):
            "verify-after-write failed, nothing was written to the destination: \(why)"
        case .readBackFailed(let cause):
            "verify-after-write failed, nothing was written to the destination: \(cause)"
        case .writerClosed:
            "the backup writer is closed (finished, aborted or failed earlier)"
        case let .internalFailure(what, cause?):
            what.isEmpty ? "internal failure: \(cause)" : "internal failure: \(what): \(cause)"
        case let .internalFailure(what, nil):
            "internal failure: \(what)"
        }
    }

    /// The error is a verdict on the file read (not a backup, damaged, corrupted, hostile
    /// parameters, wrong passphrase), not a failure of the reader itself or its
    /// environment. The fuzz tests and the coverage-guided fuzzer hold every reader to
    /// refusals of this kind on arbitrary bytes.
    var isRefusalOfTheFile: Bool {
        switch self {
        case .internalFailure, .io, .invalidOptions, .writerClosed, .destinationExists: false
        default: true
        }
    }

    private static func mebibytes(_ kib: UInt32) -> String {
        kib % 1024 == 0 ? "\(kib / 1024) MiB" : "\(Double(kib) / 1024) MiB"
    }

    init(_ error: IOError) {
        self = .io(path: error.path, operation: error.operation, errno: error.errno)
    }

    /// The container layer's errors, as users see them (the messages they had when the
    /// layer threw `BackupError` itself).
    init(_ error: ContainerError) {
        switch error {
        case .notABackup(let why): self = .notABackup(why)
        case .unsupportedVersion(let version): self = .unsupportedVersion(version)
        case .io(let error): self.init(error)
        case .encoding(let error): self = .internalFailure("Reed-Solomon encoding", cause: error)
        case let .damagedSourceRecord(stripe, record):
            self = .verificationFailed("copy A's stripe \(stripe) read back damaged: \(record)")
        }
    }

    init(_ error: FormatError) {
        switch error {
        case .unsupportedVersion(let version): self = .unsupportedVersion(version)
        case .truncated(let what): self = .notABackup("\(what) is truncated")
        case .invalidField(let what): self = .notABackup("invalid \(what)")
        }
    }
}
