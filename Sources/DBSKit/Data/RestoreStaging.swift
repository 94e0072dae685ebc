import DBSPayload
import DBSSystem

/// One entry of a restore as it waits to take its name.
struct PlannedEntry {
    enum Content {
        /// `existed`: a directory was already at the name before the run.
        case directory(existed: Bool)
        case file(StagedFile)
        case symlink(target: PathBytes)
        /// Another name of the file at `plan[target]`.
        case hardLink(target: Int)
        /// A FIFO or a device node.
        case special(kind: EntryKind, device: DeviceNumber?)
    }

    /// From the root (the nearest existing ancestor of the destination); bytes, as
    /// the entry names them.
    var components: [PathBytes]
    /// The entry's own path (nil for a parent the payload did not list).
    var entryPath: PathBytes?
    var kind: EntryKind
    var content: Content
    var mode: UInt32
    var time: FileTimestamp
    var owner: EntryOwner? = nil
    var attributes: [ExtendedAttribute] = []
    /// Directories: set mode and time at the end (created by the run, or `overwrite`).
    var setsAttributes: Bool
    /// A non-directory was at the name and `overwrite` replaces it.
    var replaces: Bool
    /// Replaced by a later entry of the same path.
    var dropped = false
    /// Exists on disk now: a directory that existed, or was created early for a named
    /// temporary file below it, or any entry once it took its name.
    var onDisk: Bool
    /// A file's content size (for a salvage's report of a file whose write failed).
    var contentSize: UInt64 = 0
    /// Took its name in this run (what a failed commit removes again).
    var placedByRun = false

    var isDirectory: Bool { if case .directory = content { true } else { false } }
}

/// A verified file waiting for its name.
enum StagedFile {
    /// An O_TMPFILE file: nothing at any path until it is linked in.
    case unnamed(DescriptorHandle)
    /// A named temporary file in its final directory, closed, registered for
    /// interruption cleanup with `token`.
    case named(temporaryName: PathBytes, token: Int)
}

/// What the walk down an entry's parents found.
struct ResolvedParent {
    /// The deepest directory of the path that exists on disk (the parent itself when
    /// `exists`).
    let anchor: DescriptorHandle
    let exists: Bool
}

/// The reading half of a restore: checks every entry, stages its content, plans its
/// place (FileTreeWriter's documentation says how); `RestoreCommit.swift` places.
struct RestoreStaging {
    let destination: String
    let overwrite: Bool
    let dryRun: Bool
    let syncFiles: Bool
    let progress: ((FileTreeProgress) -> Void)?
    let owners: OwnerMapping
    /// The nearest existing ancestor of the destination (the destination itself when
    /// it exists), and how it is shown in messages.
    let root: DescriptorHandle
    /// The destination's components that do not exist yet, planned as directories.
    let base: [PathBytes]
    var summary = RestoreSummary()
    var plan: [PlannedEntry] = []
    /// Components joined by "/" (from the root) to their index in `plan`. Keyed by
    /// bytes: two names that differ only in Unicode normalisation are two entries.
    var planned: [PathBytes: Int] = [:]
    /// Directories created before the commit (parents of named temporaries), in order.
    var createdEarly: [(components: [PathBytes], token: Int)] = []
    /// Directories where stale temporaries were already looked for.
    var cleanedDirectories: Set<PathBytes> = []
    /// One descriptor per file system holding staged files, for `syncfs`.
    var syncHandles: [UInt64: DescriptorHandle] = [:]
    /// The directory the last staged file went into (the anchor of its parent) and
    /// its file system: one fstat per directory, not per file.
    private var syncAnchor: (handle: DescriptorHandle, device: UInt64)?
    /// The content writes and each file's metadata calls, on worker threads.
    let writers: StagedFileWriters
    /// The writer lane of the next file (round-robin).
    private var nextLane = 0
    /// The directory `materialize` opened last, by its components joined.
    private var materialized: (key: PathBytes, handle: DescriptorHandle)?
    var unnamedOpen = 0
    var unnamedSupported = TemporaryName.unnamedAllowed
    let unnamedBudget: Int
    var zeros = [UInt8](repeating: 0, count: 1 << 20)
    /// The entry being read, for a salvage report: its path, bytes received, size.
    var current: (path: PathBytes, received: UInt64, size: UInt64?)?
    private var cachedParent: (key: PathBytes, parent: ResolvedParent)?

    static let temporaryPrefix = ".dbs-restore-"

    init(writer: FileTreeWriter, progress: ((FileTreeProgress) -> Void)?) throws {
        destination = writer.destination
        overwrite = writer.overwrite
        dryRun = writer.dryRun
        syncFiles = writer.syncFiles
        self.progress = progress
        owners = OwnerMapping(numericOwner: writer.numericOwner)
        // The destination's missing components are planned like any new directory, so
        // that a failed or killed restore leaves no empty destination behind either.
        var ancestor = destination
        var missing: [String] = []
        while true {
            if let status = try POSIX.linkStatus(ancestor.isEmpty ? "." : ancestor) {
                _ = status
                break
            }
            var trimmed = Substring(ancestor)
            while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            guard let slash = trimmed.lastIndex(of: "/") else {
                missing.insert(String(trimmed), at: 0)
                ancestor = ""
                continue
            }
            let name = String(trimmed[trimmed.index(after: slash)...])
            if !name.isEmpty { missing.insert(name, at: 0) }
            ancestor = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        }
        for component in missing where component == "." || component == ".." {
            throw DataError.io(path: destination, operation: "create directory", errno: ENOENT)
        }
        let opened = ancestor.isEmpty ? "." : ancestor
        root = DescriptorHandle(
            try POSIX.check("open directory", opened) {
                open(opened, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            })
        base = missing.map { PathBytes($0) }
        unnamedBudget = Self.descriptorBudget()
        writers = StagedFileWriters(lanes: writer.writeThreads)
    }

    /// How many unnamed files may be open at once: the soft descriptor limit raised to
    /// the hard one (as root, the hard one first raised to `rootDescriptorLimit`, which
    /// the kernel allows up to fs.nr_open), less a reserve for everything else the
    /// process opens. Every file beyond waits as a named temporary, which costs a
    /// directory created early, a name and an unlink, and is left after a kill -9.
    static func descriptorBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_max < Self.rootDescriptorLimit, geteuid() == 0 {
            var raised = limit
            raised.rlim_cur = Self.rootDescriptorLimit
            raised.rlim_max = Self.rootDescriptorLimit
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let soft = Int(clamping: limit.rlim_cur)
        return max(0, min(soft, 1 << 20) - 512)
    }

    /// The descriptor limit a restore as root asks for: a million files wait unnamed
    /// (the kernel's default fs.nr_open; a smaller one refuses it and the limit stays).
    static let rootDescriptorLimit: rlim_t = 1 << 20

    /// The path as messages show it: under the destination as the user wrote it,
    /// escaped (`PathBytes.escaped`).
    func shown(_ components: some Collection<PathBytes>) -> String { shownPath(components).description }

    /// The path under the destination as the user wrote it, as bytes.
    func shownPath(_ components: some Collection<PathBytes>) -> PathBytes {
        let relative = Array(components.dropFirst(base.count))
        if relative.isEmpty { return PathBytes(destination) }
        let prefix = PathBytes(destination.hasSuffix("/") ? String(destination.dropLast()) : destination)
        return PathBytes(joining: [prefix] + relative)
    }

    // MARK: Staging

    mutating func stage(_ entry: EntryMetadata, from reader: PayloadReader) throws {
        // A write of an earlier file that failed on its lane stops the restore here,
        // between entries (so a salvage's report names that file, not this one).
        try writers.check()
        let relative = try EntryPath.restorable(entry.path)
        let components = base + relative
        let name = components[components.count - 1]
        let key = PathBytes(joining: components)
        let parent = try resolveParent(components, entryPath: entry.path.description)
        var replaces = false
        var directoryExisted = false
        if let index = planned[key] {
            let earlier = plan[index]
            if earlier.isDirectory {
                guard entry.kind == .directory else {
                    throw DataError.cannotReplace(path: shown(components), reason: "a directory is in the way")
                }
                // The same directory again, or one the run made as a parent: it takes
                // this entry's mode and time when the run made it or overwrites.
                if case .directory(let existed) = earlier.content, !existed || overwrite {
                    plan[index].mode = entry.mode
                    plan[index].time = entry.modificationTime
                    plan[index].setsAttributes = true
                    plan[index].entryPath = entry.path
                }
                try reader.skipContent()
                count(entry)
                return
            }
            guard overwrite else { throw DataError.alreadyExists(path: shown(components)) }
            replaces = earlier.replaces
            drop(index)
        } else if parent.exists,
            let existing = try POSIX.linkStatus(in: parent.anchor, name, displayPath: shown(components))
        {
            if existing.type == .directory {
                guard entry.kind == .directory else {
                    throw DataError.cannotReplace(path: shown(components), reason: "a directory is in the way")
                }
                directoryExisted = true
            } else {
                guard overwrite else { throw DataError.alreadyExists(path: shown(components)) }
                replaces = true
            }
        }

        var planEntry = PlannedEntry(
            components: components, entryPath: entry.path, kind: entry.kind,
            content: .directory(existed: directoryExisted), mode: entry.mode,
            time: entry.modificationTime, setsAttributes: false, replaces: replaces,
            onDisk: directoryExisted)
        switch entry.kind {
        case .directory:
            // An existing directory keeps its mode and times unless overwriting: a
            // restore into /home must not turn a 0700 directory into 0755.
            planEntry.setsAttributes = !directoryExisted || overwrite
            try reader.skipContent()
        case .file, .records:
            var mode = entry.mode
            if entry.kind == .records, mode == 0 { mode = 0o600 }
            planEntry.mode = mode
            if dryRun {
                try reader.skipContent()
                summary.bytes += reader.lastEntrySize ?? 0
            } else {
                current = (entry.path, 0, entry.isStreamed ? nil : entry.size)
                let (staged, size) = try stageFile(
                    components, parent: parent, entry: entry, mode: mode,
                    index: plan.count, from: reader)
                current = nil
                planEntry.content = .file(staged)
                planEntry.contentSize = size
                summary.bytes += size
            }
        case .symlink:
            try reader.skipContent()
            let target = entry.linkTarget ?? ""
            // symlinkat would take the bytes before a NUL for the whole target.
            guard !target.bytes.contains(0) else {
                throw DataError.unsafePath(path: entry.path.description, reason: "its link target contains a NUL byte")
            }
            planEntry.content = .symlink(target: target)
        case .hardLink:
            try reader.skipContent()
            let target = entry.linkTarget ?? ""
            let targetKey = PathBytes(joining: base + (try EntryPath.restorable(target)))
            guard let index = planned[targetKey], case .file = plan[index].content else {
                throw DataError.cannotReplace(
                    path: shown(components), reason: "its hard link target '\(target)' is not a file restored before it"
                )
            }
            planEntry.content = .hardLink(target: index)
        case .fifo, .characterDevice, .blockDevice:
            try reader.skipContent()
            if entry.kind.isDevice, geteuid() != 0 {
                summary.warnings.append(
                    FileTreeWarning(
                        path: shownPath(components), message: "a \(entry.kind) is only restored by root; skipped"))
                return
            }
            planEntry.content = .special(kind: entry.kind, device: entry.device)
        }
        planEntry.owner = entry.owner
        planEntry.attributes = entry.extendedAttributes
        planned[key] = plan.count
        plan.append(planEntry)
        count(entry)
    }

    private mutating func count(_ entry: EntryMetadata) {
        summary.count(entry.kind)
        progress?(FileTreeProgress(entries: summary.entries, bytes: summary.bytes, path: entry.path))
    }

    /// Walks the entry's parents: each must be a directory planned by this run or one
    /// on disk reached without following a symlink; a missing one is planned as a
    /// plain directory (mode 0755 less the umask, as `mkdir -p` makes it).
    private mutating func resolveParent(_ components: [PathBytes], entryPath: String) throws -> ResolvedParent {
        let parentKey = PathBytes(joining: components.dropLast())
        if let cachedParent, cachedParent.key == parentKey { return cachedParent.parent }
        var current = root
        var onDisk = true
        for depth in 0..<(components.count - 1) {
            let prefix = Array(components[0...depth])
            let key = PathBytes(joining: prefix)
            let shownPrefix = PathBytes(joining: prefix.dropFirst(base.count)).description
            if let index = planned[key] {
                let entry = plan[index]
                switch entry.content {
                case .symlink:
                    throw DataError.unsafePath(
                        path: entryPath, reason: "it passes through the symlink '\(shownPrefix)' restored before it")
                case .file, .hardLink, .special:
                    throw DataError.cannotReplace(path: entryPath, reason: "'\(shownPrefix)' is not a directory")
                case .directory:
                    if !entry.onDisk { onDisk = false }
                }
            } else if !onDisk {
                planImplicitDirectory(prefix)
                continue
            }
            guard onDisk else { continue }
            let fd = prefix[depth].withCString {
                openat(current.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if fd >= 0 {
                current = DescriptorHandle(fd)
                continue
            }
            let code = errno
            switch code {
            case ENOENT:
                onDisk = false
                if planned[key] == nil { planImplicitDirectory(prefix) }
            case ELOOP, ENOTDIR:
                let status = try POSIX.linkStatus(in: current, prefix[depth], displayPath: shown(prefix))
                if status?.type == .symlink {
                    throw DataError.unsafePath(
                        path: entryPath, reason: "'\(shownPrefix)' is a symlink, which a restore never passes through")
                }
                throw DataError.cannotReplace(path: entryPath, reason: "'\(shownPrefix)' is not a directory")
            default:
                throw DataError.io(path: shown(prefix), operation: "open directory", errno: code)
            }
        }
        let resolved = ResolvedParent(anchor: current, exists: onDisk)
        cachedParent = (parentKey, resolved)
        return resolved
    }

    private mutating func planImplicitDirectory(_ components: [PathBytes]) {
        planned[PathBytes(joining: components)] = plan.count
        plan.append(
            PlannedEntry(
                components: components, entryPath: nil, kind: .directory,
                content: .directory(existed: false), mode: 0o777 & ~Self.umask,
                time: FileTimestamp(seconds: 0, nanoseconds: 0), setsAttributes: false,
                replaces: false, onDisk: false))
    }

    /// The process's umask, read without changing it (umask(2) would race threads).
    static let umask: UInt32 = {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0o022 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard count > 0 else { return 0o022 }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
            let mask = UInt32(line.split(separator: "\t").last ?? "", radix: 8)
        else { return 0o022 }
        return mask
    }()

    /// A later entry of the same path replaces the earlier one: its temporary goes
    /// (once its writes are done).
    private mutating func drop(_ index: Int) {
        writers.settle()
        plan[index].dropped = true
        planned[PathBytes(joining: plan[index].components)] = nil
        if case .file(let staged) = plan[index].content { discard(staged, in: plan[index].components) }
    }

    /// Writes the content into an unnamed file in the nearest existing directory, or a
    /// named temporary in the final one, through the writer lanes (which also set its
    /// owner, mode, xattrs and time after the last write); returns once the reader has
    /// verified the content, possibly before the lane has written it (the commit waits
    /// for the lanes). `index` is the plan index the file will have. On failure nothing
    /// of it remains.
    private mutating func stageFile(
        _ components: [PathBytes], parent: ResolvedParent, entry: EntryMetadata,
        mode: UInt32, index: Int, from reader: PayloadReader
    ) throws -> (StagedFile, UInt64) {
        let path = shown(components)
        var staged: StagedFile
        var file: DescriptorHandle
        var named = false
        if unnamedSupported, unnamedOpen < unnamedBudget,
            case let fd = FileSystemSync.openUnnamed(in: parent.anchor.raw, mode: 0o600),
            fd >= 0 || !Self.lacksUnnamed(errno)
        {
            guard fd >= 0 else { throw DataError.io(path: path, operation: "create temporary file for", errno: errno) }
            file = DescriptorHandle(fd)
            staged = .unnamed(file)
            unnamedOpen += 1
        } else {
            if unnamedSupported, unnamedOpen < unnamedBudget { unnamedSupported = false }
            let directory = try materialize(Array(components.dropLast()))
            let (name, token, handle) = try createNamedTemporary(in: directory, components: components)
            file = handle
            named = true
            staged = .named(temporaryName: name, token: token)
        }
        let lane = nextLane
        nextLane = (nextLane + 1) % writers.laneCount
        do {
            try noteFileSystem(of: parent.anchor, path: path)
            var size: UInt64 = 0
            var writtenEnd: UInt64 = 0
            while true {
                let bytes = try reader.readContent(maxLength: zeros.count)
                if bytes.isEmpty { break }  // the reader verified the SHA-256
                // Runs of zeros are not written (the file stays sparse; a final
                // ftruncate gives it its length when it ends with one).
                if !isAllZero(bytes) {
                    writers.write(bytes, to: file.raw, at: size, entry: index, path: path, lane: lane)
                    writtenEnd = size + UInt64(bytes.count)
                }
                size += UInt64(bytes.count)
                current?.received = size
                progress?(FileTreeProgress(entries: summary.entries, bytes: summary.bytes + size, path: entry.path))
            }
            let closing = StagedFileWriters.Closing(
                shownPath: shownPath(components), size: size, truncate: writtenEnd < size,
                chown: owners.target(for: entry.owner),
                intended: owners.intended(for: entry.owner), mode: mode, attributes: entry.extendedAttributes,
                time: entry.modificationTime, close: named,
                fsync: named && syncFiles && !FileSystemSync.hasFileSystemSync)
            writers.close(named ? file.release() : file.raw, entry: index, closing, lane: lane)
            return (staged, size)
        } catch {
            writers.settle()
            discard(staged, in: components)
            throw error
        }
    }

    /// Keeps one descriptor per file system that holds staged files, for the commit's
    /// `syncfs`; `directory` is where the file was created (or the nearest existing
    /// directory above it: new directories are on their parent's file system).
    private mutating func noteFileSystem(of directory: DescriptorHandle, path: String) throws(DataError) {
        if let syncAnchor, syncAnchor.handle === directory { return }
        let device = try POSIX.status(of: directory, path: path).device
        syncAnchor = (directory, device)
        if syncHandles[device] == nil {
            syncHandles[device] = DescriptorHandle(try POSIX.check("duplicate", path) { dup(directory.raw) })
        }
    }

    /// Waits for the writer lanes to finish every staged file; throws the first
    /// failure of a write or of a file's metadata calls.
    mutating func finishWrites() throws(DataError) {
        try writers.drain()
        summary.warnings += writers.takeWarnings()
    }

    /// errno values of an O_TMPFILE open that mean "not here" rather than a failure.
    static func lacksUnnamed(_ code: Int32) -> Bool {
        code == EOPNOTSUPP || code == EISDIR || code == EINVAL || code == ENOSYS
    }

    private mutating func createNamedTemporary(
        in directory: DescriptorHandle, components: [PathBytes]
    )
        throws(DataError) -> (PathBytes, Int, DescriptorHandle)
    {
        let parentKey = PathBytes(joining: components.dropLast())
        if !cleanedDirectories.contains(parentKey) {
            cleanedDirectories.insert(parentKey)
            TemporaryName.removeStale(in: directory.raw, prefix: Self.temporaryPrefix)
        }
        while true {
            let name = PathBytes(TemporaryName.make(prefix: Self.temporaryPrefix))
            let token = InterruptCleanup.register(file: shownForCleanup(Array(components.dropLast()) + [name]))
            let fd = name.withCString {
                openat(directory.raw, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            }
            if fd >= 0 { return (name, token, DescriptorHandle(fd)) }
            let code = errno
            InterruptCleanup.unregister(token)
            if code != EEXIST && code != EINTR {
                throw .io(path: shown(components), operation: "create temporary file for", errno: code)
            }
        }
    }

    /// The path of `components` from the working directory, for the interruption
    /// cleanup (which runs on another thread, without descriptors).
    func shownForCleanup(_ components: [PathBytes]) -> PathBytes {
        let relative = Array(components.dropFirst(base.count))
        let prefix = destination.isEmpty ? "." : destination
        if relative.isEmpty { return PathBytes(prefix) }
        return PathBytes(joining: [PathBytes(prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix)] + relative)
    }

    /// Creates the planned directories of `components` that are not on disk yet (for
    /// a named temporary below them) and opens the last.
    mutating func materialize(_ components: [PathBytes]) throws(DataError) -> DescriptorHandle {
        let wanted = PathBytes(joining: components)
        if let materialized, materialized.key == wanted { return materialized.handle }
        var current = root
        for depth in 0..<components.count {
            let prefix = Array(components[0...depth])
            let key = PathBytes(joining: prefix)
            if let index = planned[key], !plan[index].onDisk {
                let token = InterruptCleanup.register(directory: shownForCleanup(prefix))
                let parent = current
                let made = prefix[depth].withCString {
                    mkdirat(parent.raw, $0, plan[index].entryPath == nil ? 0o777 : 0o700)
                }
                if made != 0 {
                    InterruptCleanup.unregister(token)
                    throw .io(path: shown(prefix), operation: "create directory", errno: errno)
                }
                plan[index].onDisk = true
                createdEarly.append((prefix, token))
                cachedParent = nil
            }
            let parent = current
            current = DescriptorHandle(
                try POSIX.check("open directory", shown(prefix)) {
                    prefix[depth].withCString {
                        openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                })
        }
        materialized = (wanted, current)
        return current
    }

    /// Whether `bytes` (at most `zeros.count` of them) are all zero.
    private func isAllZero(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { content in
            zeros.withUnsafeBytes { memcmp(content.baseAddress!, $0.baseAddress!, content.count) == 0 }
        }
    }

    // MARK: Failure

    /// Removes one staged file's temporary (an unnamed one goes with its descriptor).
    mutating func discard(_ staged: StagedFile, in components: [PathBytes]) {
        switch staged {
        case .unnamed(let handle):
            try? handle.close(path: "")
            unnamedOpen -= 1
        case let .named(temporaryName, token):
            if let directory = try? openExisting(Array(components.dropLast())) {
                temporaryName.withCString { _ = unlinkat(directory.raw, $0, 0) }
            }
            InterruptCleanup.unregister(token)
        }
    }

    /// Everything the run staged or created goes; nothing new remains.
    mutating func discardAll() {
        writers.settle()
        for index in plan.indices where !plan[index].dropped {
            if case .file(let staged) = plan[index].content { discard(staged, in: plan[index].components) }
            plan[index].dropped = true
        }
        removeEarlyDirectories()
    }

    /// The directories created for named temporaries, deepest first, if empty.
    mutating func removeEarlyDirectories() {
        for (components, token) in createdEarly.reversed() {
            if let parent = try? openExisting(Array(components.dropLast())) {
                components[components.count - 1].withCString { _ = unlinkat(parent.raw, $0, AT_REMOVEDIR) }
            }
            InterruptCleanup.unregister(token)
        }
        createdEarly = []
    }

    /// The entries `failure` lost: the one being read when it stopped the restore, and
    /// every staged file whose write or metadata calls failed on its lane (all of its
    /// content counts as lost: what reached the disk is not known).
    func lostEntries(failure: any Error) -> [LostEntry] {
        var lost: [LostEntry] = []
        for index in writers.failedEntries.sorted() {
            let entry = plan[index]
            lost.append(
                LostEntry(
                    path: entry.entryPath ?? shownPath(entry.components),
                    lostRanges: [LostRange(start: 0, end: entry.contentSize)]))
        }
        guard let current else { return lost }
        // A content hash mismatch condemns the whole entry; a read that stopped lost
        // what it had not received yet (what it had was authentic, but unverified).
        let start: UInt64 = failure is PayloadError ? 0 : current.received
        lost.append(LostEntry(path: current.path, lostRanges: [LostRange(start: start, end: current.size)]))
        return lost
    }

    /// A salvage keeps what verified: the lanes finish, the files whose writes failed
    /// are dropped (with the hard links to them); the entry that failed while read has
    /// already discarded its own temporary.
    mutating func dropUnfinished() {
        current = nil
        writers.settle()
        summary.warnings += writers.takeWarnings()
        let failed = writers.failedEntries
        guard !failed.isEmpty else { return }
        for index in plan.indices where !plan[index].dropped {
            var lost = failed.contains(index)
            if case .hardLink(let target) = plan[index].content, failed.contains(target) { lost = true }
            guard lost else { continue }
            if case .file(let staged) = plan[index].content { discard(staged, in: plan[index].components) }
            plan[index].dropped = true
        }
    }

    /// Opens the on-disk directory `components` below the root, never following a
    /// symlink.
    func openExisting(_ components: [PathBytes]) throws(DataError) -> DescriptorHandle {
        var current = root
        for (depth, component) in components.enumerated() {
            let parent = current
            current = DescriptorHandle(
                try POSIX.check("open directory", shown(components[0...depth])) {
                    component.withCString { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                })
        }
        return current
    }
}
