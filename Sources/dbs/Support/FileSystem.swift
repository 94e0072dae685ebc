import DBSKit
import Foundation

/// The few file-system questions the commands ask before handing work to the engine,
/// so that a missing input or backup fails at once with exit 5, before a passphrase
/// is asked for or Argon2 runs.
enum FileSystem {
    /// Whether anything (a dangling symlink included) is at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// What is at `path` when it exists and is not a regular file ("a FIFO", "a
    /// character device"...); nil for a regular file or nothing.
    static func nonRegularKind(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symlink"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    static func requireReadable(_ path: String) throws {
        guard exists(path) else { throw CLIFailure(.io, "\(path) does not exist") }
        guard access(path, R_OK) == 0 else {
            throw CLIFailure(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The bytes of the regular files under `paths`, for the progress line's ETA.
    static func totalSize(of paths: [String]) -> UInt64 {
        var total: UInt64 = 0
        for path in paths {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFREG {
                total += UInt64(info.st_size)
            } else if (info.st_mode & S_IFMT) == S_IFDIR,
                let walker = FileManager.default.enumerator(atPath: path)
            {
                while let relative = walker.nextObject() as? String {
                    var child = stat()
                    if lstat(path + "/" + relative, &child) == 0, (child.st_mode & S_IFMT) == S_IFREG {
                        total += UInt64(child.st_size)
                    }
                }
            }
        }
        return total
    }

    /// Copies a file to an open descriptor (the spooled backup to standard output).
    static func copy(file path: String, toDescriptor out: Int32) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIFailure(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try forEachBlock(of: fd, named: path) { block in
            var offset = 0
            while offset < block.count {
                let w = write(out, block.baseAddress! + offset, block.count - offset)
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else {
                    throw CLIFailure(.io, "cannot write to standard output: \(String(cString: strerror(errno)))")
                }
                offset += w
            }
        }
    }

    /// Reads `fd` to its end in blocks of up to 1 MiB (memory stays bounded), retrying
    /// interrupted reads; a read error names `name`.
    static func forEachBlock(
        of fd: Int32, named name: String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw CLIFailure(.io, "cannot read \(name): \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }
}

/// A directory only this user can enter (mode 0700), removed with its contents when
/// released: where `backup -` spools the finished, encrypted file before streaming it
/// out (the layout puts copy B and the heads after copy A, so the file is finished
/// before its first byte is final).
final class PrivateDirectory {
    let path: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((base + "/dbs-spool-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CLIFailure(.io, "cannot create a spool directory in \(base): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
