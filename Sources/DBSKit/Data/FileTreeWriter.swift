import DBSPayload
import DBSSystem

/// Restores the entries of a payload as files under a destination directory, all or
/// nothing.
///
/// Safety, entry by entry:
/// - a path that is absolute, has a NUL, an empty, "." or ".." component is refused
///   (`EntryPath`'s rule, the one the payload writer applies; `DataError.unsafePath`),
///   before anything is created for it; names are bytes, created exactly as stored
///   (not necessarily UTF-8, never normalised);
/// - parents are opened one component at a time with O_NOFOLLOW relative to the
///   previous one, so a path through a symlink (restored earlier or already there)
///   is refused and nothing is ever created outside the destination;
/// - an existing file, symlink or other non-directory is not replaced unless
///   `overwrite`; a directory is never replaced by a file or symlink;
/// - set-user-ID and set-group-ID are kept only together with the owner they were
///   set for (`RestoredMode`), overwriting or not;
/// - an existing directory keeps its mode and times unless `overwrite`.
///
/// All or nothing: every entry waits until the whole payload has been read and
/// verified (its end frame's digest and counts included). A file waits as an unnamed
/// file (O_TMPFILE, in the nearest directory that already exists on its path; no
/// directory is created meanwhile), or, where there is no O_TMPFILE or more files wait
/// than descriptors allow, as a named temporary `.dbs-restore-<tag>` in its final
/// directory (`TemporaryName`; registered with `InterruptCleanup`; a later restore
/// into the same directory removes a killed run's). Symlinks and directories wait as
/// plans. Then, with interruption held off, one `syncfs` per file system makes the
/// files durable and every entry takes its name, parents first, and directories get
/// their modes and times, deepest first. On any failure before that nothing takes a
/// name and everything the run created is removed; a kill -9 while reading leaves
/// nothing but the named temporaries, if any. `salvage` is the opposite choice: on a
/// failure every entry verified so far takes its name, and `RestoreIncomplete` lists
/// what was lost. Memory grows with the number of entries (their paths), never with
/// their content.
///
/// Owners are restored when running as root (`OwnerMapping`: by name, else number),
/// never otherwise; extended attributes and ACLs where the file system takes them (a
/// warning in `RestoreSummary.warnings` where not; `security.*` only as root); hard
/// links as links to the file restored at their target path; FIFOs; device nodes as
/// root (a warning otherwise).
///
/// Modes and nanosecond modification times are restored: files' on the open file,
/// symlinks' with AT_SYMLINK_NOFOLLOW, directories' at the very end (their contents
/// change their times, and a read-only directory must still be filled). Runs of zero
/// bytes are not written (each piece goes to its offset), so sparse files stay sparse.
///
/// The files' writes and their metadata calls run on `writeThreads` writer lanes
/// (`StagedFileWriters`) while the payload is read and verified; the commit waits for
/// every lane, so nothing takes a name before its content and metadata are written.
public struct FileTreeWriter {
    package let destination: String
    package let overwrite: Bool
    /// Reads and verifies everything and checks every path, writes nothing.
    package let dryRun: Bool
    /// Make the files durable (one `syncfs` per file system, an fsync each where there
    /// is none) before they take their names, so that a crash never leaves a restored
    /// name with missing content. Off trades the guarantee for speed.
    package let syncFiles: Bool
    /// On a failure, place every entry verified so far and throw `RestoreIncomplete`
    /// (instead of placing nothing and throwing the failure).
    package let salvage: Bool
    /// As root, give entries their recorded uid and gid even where the recorded user
    /// or group name exists with another number here (tar's --numeric-owner).
    package let numericOwner: Bool
    /// Threads that write the files' content and set their metadata while the payload
    /// is read and verified (`StagedFileWriters`).
    package let writeThreads: Int

    public init(
        destination: String, overwrite: Bool = false, dryRun: Bool = false, syncFiles: Bool = true,
        salvage: Bool = false, numericOwner: Bool = false, writeThreads: Int = 2
    ) {
        self.numericOwner = numericOwner
        self.writeThreads = max(1, writeThreads)
        self.destination = destination
        self.overwrite = overwrite
        self.dryRun = dryRun
        self.syncFiles = syncFiles
        self.salvage = salvage
    }

    /// Refuses a path no restore would extract (empty, absolute, with NUL, or an
    /// empty, "." or ".." component): what `backup --name` must be checked against.
    public static func checkEntryPath(_ path: String) throws(DataError) {
        _ = try EntryPath.restorable(PathBytes(path))
    }

    /// Restores every entry `reader` yields; creates the destination if needed.
    /// Throws `DataError` for refusals and I/O failures, the reader's `PayloadError`
    /// (or the byte source's error) for damaged content, having placed nothing; with
    /// `salvage`, `RestoreIncomplete` wrapping that cause.
    package func restore(
        from reader: PayloadReader, progress: ((FileTreeProgress) -> Void)? = nil
    ) throws -> RestoreSummary {
        var restore = try RestoreStaging(writer: self, progress: progress)
        do {
            while let entry = try reader.nextEntry() {
                try restore.stage(entry, from: reader)
            }
            if !dryRun { try restore.finishWrites() }
        } catch {
            guard salvage, !dryRun else {
                restore.discardAll()
                throw error
            }
            let lost = restore.lostEntries(failure: error)
            restore.dropUnfinished()
            var placed = RestoreSummary()
            do {
                placed = try restore.commit()
            } catch let commitFailure {
                throw RestoreIncomplete(
                    placed: placed, lost: lost, readToTheEnd: false,
                    cause: commitFailure)
            }
            throw RestoreIncomplete(placed: placed, lost: lost, readToTheEnd: false, cause: error)
        }
        if dryRun { return restore.summary }
        return try restore.commit()
    }
}

/// A salvaging restore that could not restore everything: what it placed, what it
/// lost, and why.
public struct RestoreIncomplete: Error, CustomStringConvertible {
    /// The entries that verified and took their names.
    public internal(set) var placed: RestoreSummary
    /// The entries that did not verify, with the content byte ranges that are lost.
    public internal(set) var lost: [LostEntry]
    /// Whether the payload was read to its end (false: entries after the failure
    /// could not be read at all, so they are neither placed nor listed).
    public internal(set) var readToTheEnd: Bool
    /// The failure that stopped the restore (a `BackupError`, `PayloadError`, `DataError`).
    public internal(set) var cause: any Error

    public var description: String { "restore incomplete: \(cause)" }
}

/// An entry a salvaging restore could not verify.
public struct LostEntry: Sendable, Equatable {
    public internal(set) var path: PathBytes
    /// The content byte ranges lost, `[start, end)`; `end` is nil when the entry's size
    /// is not known (a streamed entry).
    public internal(set) var lostRanges: [LostRange]
}

public struct LostRange: Sendable, Equatable {
    public internal(set) var start: UInt64
    public internal(set) var end: UInt64?
}
