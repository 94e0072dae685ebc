import DBSPayload

/// Where a file tree backup or restore stands, reported after each entry and each
/// piece of content.
package struct FileTreeProgress: Sendable, Equatable {
    /// Entries finished so far.
    package var entries: UInt64
    /// Content bytes handled so far.
    package var bytes: UInt64
    /// The entry being handled (its entry path).
    package var path: PathBytes
}

/// A problem that does not stop a backup or restore: an entry skipped, a file that
/// changed while it was read, an attribute not kept; and why.
public struct FileTreeWarning: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The entry is not in the backup (a socket, a name too long...).
        case skipped
        /// The entry is in the backup, but not as it was at any one moment: it changed
        /// while it was read.
        case changed
        /// The entry is there, less something (an extended attribute, an owner).
        case incomplete
    }

    /// The file (backup) or the restored path (restore), as bytes: it need not be UTF-8.
    public var path: PathBytes
    public var message: String
    public var kind: Kind

    public init(path: PathBytes, message: String, kind: Kind = .skipped) {
        self.path = path
        self.message = message
        self.kind = kind
    }

    public var description: String { "'\(path)': \(message)" }
}

/// What a restore did.
public struct RestoreSummary: Sendable, Equatable {
    public internal(set) var files: UInt64 = 0
    public internal(set) var directories: UInt64 = 0
    public internal(set) var symlinks: UInt64 = 0
    public internal(set) var records: UInt64 = 0
    public internal(set) var hardLinks: UInt64 = 0
    /// FIFOs and device nodes.
    public internal(set) var specialFiles: UInt64 = 0
    /// Content bytes verified (and written, unless a dry run).
    public internal(set) var bytes: UInt64 = 0
    /// What was restored less than exactly: an attribute the file system refused, a
    /// device node not made by a user who is not root.
    public internal(set) var warnings: [FileTreeWarning] = []

    public var entries: UInt64 { files + directories + symlinks + records + hardLinks + specialFiles }

    /// Counts one entry of `kind`: staging counts what it plans, the commit what it places.
    mutating func count(_ kind: EntryKind) {
        switch kind {
        case .file: files += 1
        case .records: records += 1
        case .directory: directories += 1
        case .symlink: symlinks += 1
        case .hardLink: hardLinks += 1
        case .fifo, .characterDevice, .blockDevice: specialFiles += 1
        }
    }
}
