extension BackupError {
    /// What a failure means for whoever must act on it. The engine says what went
    /// wrong; each front end maps the category once to its own codes (the CLI's exit
    /// status, the C ABI's `DBS_ERR_*`), so the engine knows neither.
    public enum Category: Sendable, Hashable, CaseIterable {
        /// The passphrase does not open this backup.
        case wrongPassphrase
        /// The backup is damaged beyond what its redundancy repairs, corrupted or
        /// tampered with, or a file just written did not read back as written.
        case damaged
        /// The file is not a backup this reader reads: not DBS, a format version it does
        /// not know, or a key derivation that costs more than it is allowed to spend.
        case unreadable
        /// A system call failed, or the destination exists: the machine's failure or
        /// the caller's file, not the backup's.
        case inputOutput
        /// Options or parameters the caller gave are out of bounds.
        case invalidArgument
        /// A call on a writer that already finished, failed or was aborted.
        case misuse
        /// A library call failed where it should not have.
        case internalFailure
    }

    /// The category of this error.
    public var category: Category {
        switch self {
        case .wrongPassphrase: .wrongPassphrase
        case .damagedBeyondRepair, .corruptedChunk, .corruptedStream, .verificationFailed, .readBackFailed: .damaged
        case .notABackup, .unsupportedVersion, .kdfCostAboveCap: .unreadable
        case .io, .destinationExists: .inputOutput
        case .invalidOptions, .kdfParametersOutOfBounds: .invalidArgument
        case .writerClosed: .misuse
        case .internalFailure: .internalFailure
        }
    }
}
