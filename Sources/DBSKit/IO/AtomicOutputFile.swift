#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that appears at its destination whole or not at all.
///
/// It is written as a temp file beside the destination (same directory, so same file
/// system, so the final `rename` is atomic), mode 0600, created with `O_EXCL`. `commit`
/// fsyncs it, moves it into place and fsyncs the directory so the new name survives a
/// crash; anything else (`discard`, or the object going away uncommitted) removes the
/// temp file, so a failure never leaves a partial file where the user looks.
public final class AtomicOutputFile {
    /// Where the file will be once committed.
    public let destination: String
    /// The temp file's path while it is being written.
    public let temporaryPath: String
    /// The open temp file.
    public let file: PositionedFile
    private let overwrite: Bool
    private var state: State = .open

    private enum State { case open, committed, discarded }

    /// Creates the temp file. Refuses an existing destination unless `overwrite`,
    /// and even then anything but a regular file (`refusesToReplace`).
    public init(destination: String, overwrite: Bool) throws(IOError) {
        self.destination = destination
        self.overwrite = overwrite
        if !overwrite, Self.exists(destination) {
            throw IOError(path: destination, operation: "create", errno: EEXIST)
        }
        try Self.checkReplaceable(destination)
        let (directory, name) = Self.split(destination)
        var attempt = 0
        while true {
            let suffix = (0..<6).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
            let candidate = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(suffix)"
            do {
                file = try PositionedFile.createExclusive(candidate)
                temporaryPath = candidate
                return
            } catch {
                attempt += 1
                if error.errno != EEXIST || attempt >= 16 { throw error }
            }
        }
    }

    deinit { discard() }

    /// fsync, then atomically move the temp file to `destination` (refusing to replace
    /// an existing file unless `overwrite`), then fsync the directory.
    public func commit() throws(IOError) {
        precondition(state == .open, "AtomicOutputFile.commit called twice or after discard")
        try file.sync()
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
        state = .committed
        try Self.syncDirectory(of: destination)
    }

    /// Removes the temp file; nothing is left at the destination. Idempotent.
    public func discard() {
        guard state == .open else { return }
        state = .discarded
        _ = unlink(temporaryPath)
    }

    /// The operation an `IOError` names when the destination is something other
    /// than a regular file: replacing it would rename over a device node, a FIFO, a
    /// symlink or a socket (`dbs backup --force /dev/null` as root would delete
    /// /dev/null), so overwriting only ever replaces a regular file.
    public static let refusesToReplace = "refuse to replace what is not a regular file:"

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
        let (directory, _) = split(path)
        let target = directory.isEmpty ? "." : directory
        let fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError.last(path: target, operation: "open directory") }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw IOError.last(path: target, operation: "fsync directory") }
    }
}
