import DBSReedSolomon
import DBSSystem

/// Why the container layer could not find or write a backup's stripes and heads.
///
/// Integrity's own errors, so that the layer does not speak the pipeline's
/// `BackupError`; each case keeps its cause (the `IOError`, the Reed-Solomon error, the
/// stripe's repair), and the pipeline maps them once
/// (`BackupError.init(_: ContainerError)`).
package enum ContainerError: Error, Sendable {
    /// The file is not a DBS container (or nothing of its metadata survives); says why.
    case notABackup(String)
    /// A container of a format version this build does not read.
    case unsupportedVersion(UInt16)
    /// A system call on the container file failed.
    case io(IOError)
    /// Computing a stripe's parity failed (an internal failure: the shape was checked).
    case encoding(ReedSolomonError)
    /// Copy B is written from copy A's records as read back, and this one did not read
    /// back clean: a bad copy A is never duplicated.
    case damagedSourceRecord(stripe: UInt64, StripeRepair)
}
