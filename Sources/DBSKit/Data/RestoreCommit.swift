import DBSSystem

/// The placing half of a restore: every staged entry takes its name.
extension RestoreStaging {
    /// Makes the staged files durable, gives every planned entry its name (parents
    /// first), then sets directories' modes and times (deepest first). Signals wait
    /// until it is done. On a failure the names given so far are taken back (a file
    /// that replaced one cannot give the old one back) and the run's directories
    /// removed. Returns what was placed.
    mutating func commit() throws -> RestoreSummary {
        try InterruptCleanup.uninterruptible { () throws -> RestoreSummary in
            do {
                if syncFiles { try syncStaged() }
                var placed = RestoreSummary()
                var parentCache: (key: [PathBytes], handle: DescriptorHandle)?
                for index in plan.indices where !plan[index].dropped {
                    let entry = plan[index]
                    let parentComponents = Array(entry.components.dropLast())
                    let parent: DescriptorHandle
                    if let cached = parentCache, cached.key == parentComponents {
                        parent = cached.handle
                    } else {
                        parent = try openExisting(parentComponents)
                        parentCache = (parentComponents, parent)
                    }
                    try place(index, in: parent)
                    count(entry, into: &placed)
                }
                try applyDirectoryAttributes()
                placed.warnings = summary.warnings
                return placed
            } catch {
                rollBack()
                throw error
            }
        }
    }

    private func count(_ entry: PlannedEntry, into summary: inout RestoreSummary) {
        guard entry.entryPath != nil else { return }
        summary.count(entry.kind)
        if case .file = entry.content { summary.bytes = self.summary.bytes }
        summary.warnings = self.summary.warnings
    }

    /// One `syncfs` per file system holding staged files (an fsync per file where
    /// there is no `syncfs`; named temporaries were synced when written then).
    private func syncStaged() throws(DataError) {
        for (_, handle) in syncHandles {
            let synced = FileSystemSync.syncFileSystem(containing: handle.raw)
            if synced == ENOSYS {
                for entry in plan where !entry.dropped {
                    if case .file(.unnamed(let file)) = entry.content {
                        try POSIX.check("sync", shown(entry.components)) { fsync(file.raw) }
                    }
                }
                return
            } else if synced != 0 {
                throw .io(path: destination, operation: "sync the file system of", errno: synced)
            }
        }
    }

    private mutating func place(_ index: Int, in parent: DescriptorHandle) throws(DataError) {
        let entry = plan[index]
        let name = entry.components[entry.components.count - 1]
        let path = shown(entry.components)
        switch entry.content {
        case .directory:
            guard !entry.onDisk else { return }
            if entry.replaces {
                try POSIX.check("remove", path) { name.withCString { unlinkat(parent.raw, $0, 0) } }
            }
            // A parent the payload did not list is made as `mkdir -p` makes it; a listed
            // one stays private until its own mode is set at the end.
            let initial: mode_t = entry.entryPath == nil ? 0o777 : 0o700
            try POSIX.check("create directory", path) { name.withCString { mkdirat(parent.raw, $0, initial) } }
        case .file(.unnamed(let file)):
            if entry.replaces {
                try replace(name, in: parent, path: path) { temporary in
                    FileSystemSync.linkUnnamed(file.raw, in: parent.raw, as: temporary)
                }
            } else {
                let linked = name.withCString { FileSystemSync.linkUnnamed(file.raw, in: parent.raw, as: $0) }
                if linked == EEXIST { throw .alreadyExists(path: path) }
                if linked != 0 { throw .io(path: path, operation: "link into place", errno: linked) }
            }
            try file.close(path: path)
            unnamedOpen -= 1
        case let .file(.named(temporaryName, token)):
            try temporaryName.withCString { (temporary) throws(DataError) in
                try name.withCString { (final) throws(DataError) in
                    if entry.replaces {
                        try POSIX.check("rename into place", path) {
                            renameat(parent.raw, temporary, parent.raw, final)
                        }
                    } else if linkat(parent.raw, temporary, parent.raw, final, 0) == 0 {
                        // The file is in place under its name: dropping the temporary
                        // name is tidying, and its failure changes nothing restored.
                        _ = unlinkat(parent.raw, temporary, 0)
                    } else if errno == EEXIST {
                        throw .alreadyExists(path: path)
                    } else {
                        // No hard links here: a rename, which the checks before made safe.
                        try POSIX.check("rename into place", path) {
                            renameat(parent.raw, temporary, parent.raw, final)
                        }
                    }
                }
            }
            InterruptCleanup.unregister(token)
        case .symlink(let target):
            let times = POSIX.timespecs(entry.time)
            if entry.replaces {
                try replace(name, in: parent, path: path) { temporary in
                    guard target.withCString({ symlinkat($0, parent.raw, temporary) }) == 0 else { return errno }
                    return utimensat(parent.raw, temporary, times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno
                }
            } else {
                if target.withCString({ linked in name.withCString { symlinkat(linked, parent.raw, $0) } }) != 0 {
                    throw errno == EEXIST
                        ? .alreadyExists(path: path) : .io(path: path, operation: "create symlink", errno: errno)
                }
                plan[index].placedByRun = true
                try POSIX.check("set the time of", path) {
                    name.withCString { utimensat(parent.raw, $0, times, AT_SYMLINK_NOFOLLOW) }
                }
            }
            if let target = owners.target(for: entry.owner) {
                try POSIX.check("set the owner of", path) {
                    name.withCString {
                        fchownat(parent.raw, $0, uid_t(target.uid), gid_t(target.gid), AT_SYMLINK_NOFOLLOW)
                    }
                }
            }
        case .hardLink(let target):
            let targetEntry = plan[target]
            let targetParent = try openExisting(Array(targetEntry.components.dropLast()))
            let targetName = targetEntry.components[targetEntry.components.count - 1]
            if entry.replaces {
                try replace(name, in: parent, path: path) { temporary in
                    targetName.withCString { linkat(targetParent.raw, $0, parent.raw, temporary, 0) } == 0 ? 0 : errno
                }
            } else if targetName.withCString({ from in
                name.withCString { linkat(targetParent.raw, from, parent.raw, $0, 0) }
            }) != 0 {
                throw errno == EEXIST
                    ? .alreadyExists(path: path) : .io(path: path, operation: "create hard link", errno: errno)
            }
        case let .special(kind, device):
            let type: mode_t = kind == .fifo ? S_IFIFO : kind == .characterDevice ? S_IFCHR : S_IFBLK
            let number = device.map(POSIX.deviceID) ?? 0
            let made = name
            if entry.replaces {
                try replace(name, in: parent, path: path) { temporary in
                    mknodat(parent.raw, temporary, type | 0o600, number) == 0 ? 0 : errno
                }
            } else if name.withCString({ mknodat(parent.raw, $0, type | 0o600, number) }) != 0 {
                throw errno == EEXIST
                    ? .alreadyExists(path: path) : .io(path: path, operation: "create \(kind)", errno: errno)
            }
            plan[index].placedByRun = true
            if let target = owners.target(for: entry.owner) {
                try POSIX.check("set the owner of", path) {
                    made.withCString {
                        fchownat(parent.raw, $0, uid_t(target.uid), gid_t(target.gid), AT_SYMLINK_NOFOLLOW)
                    }
                }
            }
            var status = stat()
            try POSIX.check("stat", path) { made.withCString { fstatat(parent.raw, $0, &status, AT_SYMLINK_NOFOLLOW) } }
            let permitted = RestoredMode.permitted(
                entry.mode, recorded: owners.intended(for: entry.owner),
                actual: (UInt32(status.st_uid), UInt32(status.st_gid)))
            try POSIX.check("set the mode of", path) {
                made.withCString { fchmodat(parent.raw, $0, mode_t(permitted), 0) }
            }
            let times = POSIX.timespecs(entry.time)
            try POSIX.check("set the time of", path) {
                made.withCString { utimensat(parent.raw, $0, times, AT_SYMLINK_NOFOLLOW) }
            }
        }
        plan[index].onDisk = true
        plan[index].placedByRun = true
    }

    /// Creates the new node under a temporary name with `make` (0 or an errno), then
    /// renames it over `name`: the old entry is replaced atomically.
    private func replace(
        _ name: PathBytes, in parent: DescriptorHandle, path: String,
        make: (String) -> Int32
    ) throws(DataError) {
        var temporary = ""
        while true {
            temporary = TemporaryName.make(prefix: Self.temporaryPrefix)
            let made = make(temporary)
            if made == 0 { break }
            if made != EEXIST { throw .io(path: path, operation: "create", errno: made) }
        }
        if name.withCString({ renameat(parent.raw, temporary, parent.raw, $0) }) != 0 {
            let code = errno
            unlinkat(parent.raw, temporary, 0)
            throw .io(path: path, operation: "rename into place", errno: code)
        }
    }

    /// Sets the modes and times of the directories the run made or overwrites,
    /// deepest last-restored first, so that nothing done afterwards touches them.
    private mutating func applyDirectoryAttributes() throws(DataError) {
        var warnings: [FileTreeWarning] = []
        defer { summary.warnings += warnings }
        for entry in plan.reversed() where !entry.dropped && entry.isDirectory && entry.setsAttributes {
            let path = shown(entry.components)
            let handle = try openExisting(entry.components)
            try RestoredMode.apply(
                entry.mode, chown: owners.target(for: entry.owner),
                intended: owners.intended(for: entry.owner), to: handle.raw, path: path)
            ExtendedAttributes.apply(entry.attributes, descriptor: handle.raw, path: nil, shownAs: path) {
                warnings.append(FileTreeWarning(path: shownPath(entry.components), message: $0))
            }
            let times = POSIX.timespecs(entry.time)
            try POSIX.check("set the time of", path) { futimens(handle.raw, times) }
        }
    }

    /// Takes back what a failed commit placed: new names removed, deepest first, the
    /// run's directories too; the temporaries not placed yet removed.
    private mutating func rollBack() {
        for index in plan.indices.reversed() where !plan[index].dropped {
            let entry = plan[index]
            let name = entry.components[entry.components.count - 1]
            if entry.placedByRun, !entry.replaces, let parent = try? openExisting(Array(entry.components.dropLast())) {
                name.withCString { _ = unlinkat(parent.raw, $0, entry.isDirectory ? AT_REMOVEDIR : 0) }
            } else if !entry.placedByRun, case .file(let staged) = entry.content {
                discard(staged, in: entry.components)
            }
            plan[index].dropped = true
        }
        removeEarlyDirectories()
    }
}
