import DBSPayload
import DBSSystem

// The few POSIX calls the data layer needs where FileManager is not precise
// enough (nanosecond times, no following of symlinks, descriptors relative to a
// directory), each turning errno into a DataError that names the path. The calls
// themselves, their EINTR loop, the descriptor's owner and the errno error are the
// system layer's (DBSSystem); this file only says them in the data layer's terms.

/// The data layer's name for the system layer's descriptor owner.
typealias DescriptorHandle = FileDescriptor

extension FileDescriptor {
    /// Closes now, reporting the error that `deinit` would have to ignore.
    func close(path: String) throws(DataError) {
        do throws(IOError) { try close(reportingAs: path) } catch { throw DataError(error) }
    }
}

extension DataError {
    /// A failed system call, as the data layer reports it.
    init(_ error: IOError) {
        self = .io(path: error.path, operation: error.operation, errno: error.errno)
    }
}

/// The type of a file as lstat sees it.
enum FileType: Equatable {
    case regular, directory, symlink, fifo, characterDevice, blockDevice
    /// A socket (or an unknown type), which a backup does not store.
    case unsupported(String)

    init(mode: mode_t) {
        switch mode & 0o170000 {
        case 0o100000: self = .regular
        case 0o040000: self = .directory
        case 0o120000: self = .symlink
        case 0o140000: self = .unsupported("a socket")
        case 0o010000: self = .fifo
        case 0o020000: self = .characterDevice
        case 0o060000: self = .blockDevice
        default: self = .unsupported("of unknown type")
        }
    }
}

/// The parts of `struct stat` a payload keeps.
struct FileStatus {
    var type: FileType
    /// mode & 0o7777.
    var permissions: UInt32
    var size: UInt64
    var modificationTime: FileTimestamp
    /// The inode change time, as (seconds, nanoseconds): what a rewrite that restores
    /// the mtime still moves.
    var changeTime: FileTimestamp
    var uid: UInt32
    var gid: UInt32
    var device: UInt64
    var inode: UInt64
    var linkCount: UInt64
    /// The device number of a device node.
    var deviceNumber: DeviceNumber

    init(_ status: stat) {
        type = FileType(mode: status.st_mode)
        permissions = UInt32(status.st_mode & 0o7777)
        size = UInt64(max(0, status.st_size))
        modificationTime = FileTimestamp(
            seconds: Int64(status.st_mtim.tv_sec),
            nanoseconds: UInt32(clamping: status.st_mtim.tv_nsec))
        changeTime = FileTimestamp(
            seconds: Int64(status.st_ctim.tv_sec),
            nanoseconds: UInt32(clamping: status.st_ctim.tv_nsec))
        uid = UInt32(status.st_uid)
        gid = UInt32(status.st_gid)
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        linkCount = UInt64(status.st_nlink)
        let rdev = UInt64(status.st_rdev)
        // glibc's gnu_dev_major/minor, which Swift does not import (they are macros).
        deviceNumber = DeviceNumber(
            major: UInt32(((rdev >> 8) & 0xfff) | ((rdev >> 32) & 0xffff_f000)),
            minor: UInt32((rdev & 0xff) | ((rdev >> 12) & 0xffff_ff00)))
    }
}

enum POSIX {
    /// `SystemCall.retryingInterrupts`, its failure as `DataError.io(path, operation)`.
    @discardableResult
    static func check<T: BinaryInteger>(
        _ operation: String, _ path: String,
        _ call: () -> T
    ) throws(DataError) -> T {
        do throws(IOError) {
            return try SystemCall.retryingInterrupts(operation, path: path, call)
        } catch {
            throw DataError(error)
        }
    }

    /// lstat of `path`; nil when it does not exist.
    static func linkStatus(_ path: String) throws(DataError) -> FileStatus? {
        try linkStatus(PathBytes(path))
    }

    static func linkStatus(_ path: PathBytes) throws(DataError) -> FileStatus? {
        var status = stat()
        if path.withCString({ lstat($0, &status) }) == 0 { return FileStatus(status) }
        if errno == ENOENT { return nil }
        throw .io(path: path.description, operation: "stat", errno: errno)
    }

    /// fstatat without following a final symlink; nil when `name` does not exist.
    static func linkStatus(
        in directory: DescriptorHandle, _ name: PathBytes,
        displayPath: String
    ) throws(DataError) -> FileStatus? {
        var status = stat()
        if name.withCString({ fstatat(directory.raw, $0, &status, AT_SYMLINK_NOFOLLOW) }) == 0 {
            return FileStatus(status)
        }
        if errno == ENOENT { return nil }
        throw .io(path: displayPath, operation: "stat", errno: errno)
    }

    static func status(of file: DescriptorHandle, path: String) throws(DataError) -> FileStatus {
        var status = stat()
        try check("stat", path) { fstat(file.raw, &status) }
        return FileStatus(status)
    }

    /// The target of the symlink at `path`, as bytes (not necessarily UTF-8).
    static func linkTarget(_ path: PathBytes) throws(DataError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try check("read link", path.description) {
            path.withCString { name in
                buffer.withUnsafeMutableBufferPointer { readlink(name, $0.baseAddress!, $0.count) }
            }
        }
        guard count < buffer.count else {
            throw .invalidInput(path: path.description, reason: "the link target is longer than PATH_MAX")
        }
        return Array(buffer[0..<count])
    }

    /// The names in a directory, raw bytes, without "." and "..".
    static func directoryNames(_ path: PathBytes) throws(DataError) -> [PathBytes] {
        guard let stream = path.withCString({ opendir($0) }) else {
            throw .io(path: path.description, operation: "open directory", errno: errno)
        }
        defer { closedir(stream) }
        var names: [PathBytes] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .io(path: path.description, operation: "read directory", errno: errno) }
                return names
            }
            // The name is read in place, up to its NUL: the kernel's record is only as
            // long as the name, so copying the whole 256-byte `d_name` field would read
            // past it (valgrind sees uninitialised bytes).
            let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = Array(
                UnsafeRawBufferPointer(start: field, count: strlen(field.assumingMemoryBound(to: CChar.self))))
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(PathBytes(bytes: name))
        }
    }

    /// glibc's gnu_dev_makedev.
    static func deviceID(_ number: DeviceNumber) -> dev_t {
        // In four typed parts: as one expression, Swift 6.2's type checker gives up on it.
        let major = UInt64(number.major)
        let minor = UInt64(number.minor)
        let majorLow: UInt64 = (major & 0xfff) << 8
        let majorHigh: UInt64 = (major & 0xffff_f000) << 32
        let minorLow: UInt64 = minor & 0xff
        let minorHigh: UInt64 = (minor & 0xffff_ff00) << 12
        return dev_t(majorLow | majorHigh | minorLow | minorHigh)
    }

    /// utimensat's two timestamps, access and modification, both set to `time`.
    static func timespecs(_ time: FileTimestamp) -> [timespec] {
        let value = timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds))
        return [value, value]
    }

    static func errorMessage(_ code: Int32) -> String { IOError.reason(code) }
}
