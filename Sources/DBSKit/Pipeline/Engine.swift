import DBSIO
import DBSIntegrity
import DBSPayload
import DBSSecurity

/// The engine's whole-file operations, wired once for every front end (the `dbs`
/// commands and the C ABI's `dbs_backup_paths`, `dbs_restore`, `dbs_validate`): back up
/// files and directories into a backup file, and open a backup with its passphrase to
/// restore it into a directory or to decrypt and check all of it.
///
/// Each is the same stack of layers: a file tree (`FileTreeReader`, `FileTreeWriter`)
/// over a payload (`PayloadWriter`, `PayloadReader`) over the container
/// (`BackupWriter`, `BackupReader`). Front ends choose the options and say what
/// happened in their own words; they do not assemble the stack.
public enum Engine {
    /// What a backup reads.
    public enum Inputs {
        /// Files and directories, recursively (`FileTreeReader`).
        case paths([String])
        /// Entries the caller writes itself into the payload (standard input as one
        /// streamed entry).
        case entries((PayloadWriter) throws -> Void)
    }

    /// A finished backup: what went in, the file written, and the inputs that were
    /// skipped, changed while read or stored less something (`FileTreeWarning.Kind`).
    public struct BackupResult {
        public internal(set) var contents: PayloadSummary
        public internal(set) var file: BackupSummary
        public internal(set) var warnings: [FileTreeWarning]
    }

    /// Backs up `inputs` into a new backup file at `destination`, written beside it,
    /// verified (unless `options.verifyAfterWrite` is off) and only then renamed into
    /// place. On any failure the temporary file is removed and nothing appears at
    /// `destination`.
    ///
    /// `metadata` is stored in the payload header (the CLI names itself there);
    /// `progress` is told the count of each block of plaintext as it enters the backup.
    public static func backUp(
        _ inputs: Inputs, to destination: String, passphrase: SecureBytes, options: BackupOptions,
        metadata: [String: String] = [:], progress: ((Int) -> Void)? = nil
    ) throws -> BackupResult {
        let backup = try NewBackup(
            destination: destination, passphrase: passphrase, options: options,
            metadata: metadata, progress: progress)
        var warnings: [FileTreeWarning] = []
        do {
            switch inputs {
            case .paths(let paths):
                let options = FileTreeReader.Options(warning: { warnings.append($0) })
                try FileTreeReader(inputs: paths, options: options).write(to: backup.payload)
            case .entries(let write):
                try write(backup.payload)
            }
        } catch {
            backup.abort()
            throw error
        }
        let (contents, file) = try backup.finish()
        return BackupResult(contents: contents, file: file, warnings: warnings)
    }
}

/// A backup being written: the container writer with the payload framing over it, for
/// a caller that writes its entries itself (the C ABI's `dbs_writer`), and under
/// `Engine.backUp`. Unfinished (a failure, `abort`, or dropped), it leaves nothing at
/// its destination.
public final class NewBackup {
    private let container: BackupWriter

    /// Where the entries go.
    public let payload: PayloadWriter

    /// Creates the temporary file beside `destination` and derives the keys (a
    /// destination that exists is refused unless `options.overwrite`). `metadata` is
    /// stored in the payload header; `progress` is told the count of each block of
    /// plaintext as it enters the backup.
    public init(
        destination: String, passphrase: SecureBytes, options: BackupOptions,
        metadata: [String: String] = [:], progress: ((Int) -> Void)? = nil
    ) throws {
        let container = try BackupWriter(destination: destination, passphrase: passphrase, options: options)
        self.container = container
        do {
            let sink: any ByteSink = progress.map { CountingSink(container, counter: $0) } ?? container
            payload = try PayloadWriter(sink: sink, metadata: metadata)
        } catch {
            container.abort()
            throw error
        }
    }

    /// Ends the payload, then the file (verified, unless `verifyAfterWrite` is off, and
    /// renamed into place); on a failure nothing is left.
    public func finish() throws -> (contents: PayloadSummary, file: BackupSummary) {
        do {
            let contents = try payload.finish()
            return (contents, try container.finish())
        } catch {
            container.abort()
            throw error
        }
    }

    /// Stops: the temporary file is removed and nothing appears at the destination.
    public func abort() {
        container.abort()
    }
}

/// A backup opened with its passphrase: the data key unwrapped and the payload's header
/// read, ready to be restored into a directory or decrypted and checked as a whole.
///
/// Opening is a step of its own because what fails there (a wrong passphrase, a key
/// derivation above the cap, damage before the first entry) fails before any directory
/// is touched, which a front end reports apart from a failed restore.
public final class OpenedBackup {
    private let reader: BackupReader
    private let source: CountingSource

    /// The payload, for a caller that walks its entries itself (`dbs list`).
    public let payload: PayloadReader

    /// Opens `path` with `passphrase`, repairing on the way with `threads` threads;
    /// Argon2id parameters above `kdfCap` are refused before any key derivation.
    public init(
        path: String, passphrase: SecureBytes, threads: Int = BackupOptions.coreCount,
        kdfCap: KDFCostCap = .default
    ) throws {
        let reader = try BackupReader(path: path, passphrase: passphrase, threads: threads, kdfCap: kdfCap)
        let source = CountingSource(reader)
        self.reader = reader
        self.source = source
        payload = try PayloadReader(source: source)
    }

    /// What was repaired so far: all of it once the backup has been read to its end,
    /// up to the failure when it could not be.
    public var repairReport: RepairReport { reader.repairReport }

    /// Restores every entry as `tree` says (its destination, overwrite, dry run,
    /// salvage...): all or nothing, or with `tree.salvage` what verifies, throwing
    /// `RestoreIncomplete` (`FileTreeWriter.restore`). `progress` is told the count of
    /// each block of verified plaintext read (first, of what opening read).
    public func restore(into tree: FileTreeWriter, progress: ((Int) -> Void)? = nil) throws -> RestoreSummary {
        source.report(to: progress)
        return try tree.restore(from: payload)
    }

    /// Decrypts and checks the whole payload, writing nothing: every chunk's GCM tag,
    /// every entry's SHA-256, the payload's end frame.
    public func verifyContents() throws -> PayloadSummary {
        while try payload.nextEntry() != nil {
            try payload.skipContent()  // still hashed and verified, just not handed out
        }
        guard let summary = payload.summary else { throw PayloadError.unexpectedEnd }
        return summary
    }
}

/// Counts the plaintext passing into a backup (for a progress line).
private final class CountingSink: ByteSink {
    private let inner: any ByteSink
    private let counter: (Int) -> Void

    init(_ inner: any ByteSink, counter: @escaping (Int) -> Void) {
        self.inner = inner
        self.counter = counter
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try inner.write(bytes)
        counter(bytes.count)
    }
}

/// Counts the verified plaintext coming out of a backup (for a progress line): what
/// is read before anyone listens (the payload's header, while opening) is handed to the
/// first listener.
private final class CountingSource: ByteSource {
    private let inner: any ByteSource
    private var counter: ((Int) -> Void)?
    private var unreported = 0

    init(_ inner: any ByteSource) {
        self.inner = inner
    }

    func report(to counter: ((Int) -> Void)?) {
        self.counter = counter
        if let counter, unreported > 0 { counter(unreported) }
        unreported = 0
    }

    func read(into buffer: inout [UInt8], maxLength: Int) throws -> Int {
        let n = try inner.read(into: &buffer, maxLength: maxLength)
        if let counter { counter(n) } else { unreported += n }
        return n
    }
}
