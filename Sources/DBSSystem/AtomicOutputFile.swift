/// A file that appears at its destination whole or not at all, and leaves nothing
/// behind when it does not, even after SIGKILL.
///
/// Where the file system supports it (ext4, xfs, btrfs, tmpfs on Linux) the file is
/// created unnamed in the destination's directory (`O_TMPFILE`, mode 0600): it has no
/// name until `commit` links it in, so a process killed at any moment before leaves
/// nothing, and `temporaryPath` is `/proc/self/fd/N`, through which it is read back.
/// Elsewhere it is a named temp file beside the destination (`.NAME.tmp-<tag>`, same
/// directory, so the final `rename` is atomic), created with `O_EXCL`, registered with
/// `InterruptCleanup` (removed on SIGINT/SIGTERM/SIGHUP), and named by
/// `TemporaryName` so that the next run into the same directory removes it if a kill
/// left it. `commit` fsyncs the file, gives it its name and fsyncs the directory so
/// the name survives a crash; anything else (`discard`, or the object going away
/// uncommitted) leaves nothing where the user looks.
package final class AtomicOutputFile {
    /// Where the file will be once committed.
    package let destination: String
    /// A path the temp file can be opened by while it is being written.
    package let temporaryPath: String
    /// The open temp file.
    package let file: PositionedFile
    /// Whether the temp file is unnamed (O_TMPFILE).
    package let isUnnamed: Bool
    private let overwrite: Bool
    /// The destination's directory, open: where the temp file is created and linked.
    private let directoryOwner: FileDescriptor
    private var directory: Int32 { directoryOwner.raw }
    private let name: String
    private var registration: Int?
    private var state: State = .open

    private enum State { case open, committed, discarded }

    /// The start of a named temp file's name for `name`.
    static func temporaryPrefix(_ name: String) -> String { ".\(name).tmp-" }

    /// Creates the temp file. Refuses an existing destination unless `overwrite`,
    /// and even then anything but a regular file (`refusesToReplace`).
    package init(destination: String, overwrite: Bool) throws(IOError) {
        self.destination = destination
        self.overwrite = overwrite
        if !overwrite, Self.exists(destination) {
            throw IOError(path: destination, operation: "create", errno: EEXIST)
        }
        try Self.checkReplaceable(destination)
        let (directoryPath, name) = Self.split(destination)
        let directoryName = directoryPath.isEmpty ? "." : directoryPath
        let directory = FileDescriptor(
            try SystemCall.retryingInterrupts("open directory", path: directoryName) {
                open(directoryName, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            })
        directoryOwner = directory
        self.name = name
        TemporaryName.removeStale(in: directory.raw, prefix: Self.temporaryPrefix(name))

        let unnamed = TemporaryName.unnamedAllowed ? FileSystemSync.openUnnamed(in: directory.raw, mode: 0o600) : -1
        if unnamed >= 0, access("/proc/self/fd/\(unnamed)", F_OK) == 0 {
            _ = fchmod(unnamed, 0o600)
            file = PositionedFile(adopting: unnamed, path: destination)
            temporaryPath = "/proc/self/fd/\(unnamed)"
            isUnnamed = true
            return
        }
        if unnamed >= 0 { _ = close(unnamed) }
        isUnnamed = false
        var attempt = 0
        while true {
            let candidate =
                (directoryPath.isEmpty ? "" : directoryPath + "/")
                + TemporaryName.make(prefix: Self.temporaryPrefix(name))
            let token = InterruptCleanup.register(file: candidate)
            do {
                file = try PositionedFile.createExclusive(candidate)
                temporaryPath = candidate
                registration = token
                return
            } catch {
                InterruptCleanup.unregister(token)
                attempt += 1
                if error.errno != EEXIST || attempt >= 16 { throw error }
            }
        }
    }

    deinit { discard() }

    /// fsync, then atomically give the file its name at `destination` (refusing to
    /// replace an existing file unless `overwrite`, and anything but a regular file
    /// always), then fsync the directory.
    package func commit() throws(IOError) {
        precondition(state == .open, "AtomicOutputFile.commit called twice or after discard")
        try file.sync()
        if isUnnamed {
            try commitUnnamed()
        } else {
            try commitNamed(temporaryPath)
        }
        state = .committed
        try Self.syncDirectory(of: destination)
    }

    private func commitUnnamed() throws(IOError) {
        let descriptor = file.descriptorForLinking
        let linked = FileSystemSync.linkUnnamed(descriptor, in: directory, as: name)
        if linked == 0 { return }
        guard linked == EEXIST else { throw IOError(path: destination, operation: "link into place", errno: linked) }
        guard overwrite else { throw IOError(path: destination, operation: "rename", errno: EEXIST) }
        // Replacing: a name of its own first, then the atomic rename over the old file.
        let (directoryPath, _) = Self.split(destination)
        let temporary =
            (directoryPath.isEmpty ? "" : directoryPath + "/")
            + TemporaryName.make(prefix: Self.temporaryPrefix(name))
        let token = InterruptCleanup.register(file: temporary)
        defer { InterruptCleanup.unregister(token) }
        let named = FileSystemSync.linkUnnamed(descriptor, in: AT_FDCWD, as: temporary)
        guard named == 0 else { throw IOError(path: temporary, operation: "link into place", errno: named) }
        do throws(IOError) {
            try Self.checkReplaceable(destination)
            guard rename(temporary, destination) == 0 else {
                throw IOError.last(path: destination, operation: "rename from \(temporary)")
            }
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    private func commitNamed(_ temporaryPath: String) throws(IOError) {
        defer {
            if let registration { InterruptCleanup.unregister(registration) }
            registration = nil
        }
        if overwrite {
            try Self.checkReplaceable(destination)
            guard rename(temporaryPath, destination) == 0 else {
                throw IOError.last(path: destination, operation: "rename from \(temporaryPath)")
            }
        } else {
            // link(2) fails with EEXIST if something appeared meanwhile: an atomic
            // "rename without replace" on every POSIX file system with hard links.
            if link(temporaryPath, destination) == 0 {
                _ = unlink(temporaryPath)
            } else {
                let error = IOError.last(path: destination, operation: "link from \(temporaryPath)")
                if error.errno == EEXIST || Self.exists(destination) {
                    throw IOError(path: destination, operation: "rename", errno: EEXIST)
                }
                // No hard links here (FAT, some network file systems): plain rename.
                guard rename(temporaryPath, destination) == 0 else {
                    throw IOError.last(path: destination, operation: "rename from \(temporaryPath)")
                }
            }
        }
    }

    /// Removes the temp file (an unnamed one goes with its descriptor); nothing is
    /// left at the destination. Idempotent.
    package func discard() {
        guard state == .open else { return }
        state = .discarded
        if !isUnnamed { _ = unlink(temporaryPath) }
        if let registration { InterruptCleanup.unregister(registration) }
        registration = nil
    }

    /// The operation an `IOError` names when the destination is something other
    /// than a regular file: replacing it would rename over a device node, a FIFO, a
    /// symlink or a socket (`dbs backup --force /dev/null` as root would delete
    /// /dev/null), so overwriting only ever replaces a regular file.
    package static let refusesToReplace = "refuse to replace what is not a regular file:"

    /// Throws `refusesToReplace` (EINVAL) when `path` exists and is not a regular file.
    static func checkReplaceable(_ path: String) throws(IOError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT != S_IFREG {
            throw IOError(path: path, operation: refusesToReplace, errno: EINVAL)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// (directory, last component); the directory is "" for a bare name.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// fsync of the directory holding `path`, so that a rename in it is durable.
    static func syncDirectory(of path: String) throws(IOError) {
        let (directoryPath, _) = split(path)
        let target = directoryPath.isEmpty ? "." : directoryPath
        let directory = FileDescriptor(
            try SystemCall.retryingInterrupts("open directory", path: target) {
                open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            })
        try SystemCall.retryingInterrupts("fsync directory", path: target) { fsync(directory.raw) }
    }
}
