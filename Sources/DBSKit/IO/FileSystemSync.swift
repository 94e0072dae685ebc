#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CLibc

/// The durability calls of the `CLibc` shim, for `PositionedFile` and for the layers
/// above IO, which never import a C module themselves.
enum FileSystemSync {
    /// Starts writeback of `length` bytes from `offset` without waiting for it
    /// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing elsewhere than Linux).
    static func startWriteback(descriptor: Int32, offset: UInt64, length: UInt64) {
        _ = clibc_start_writeback(descriptor, Int64(offset), Int64(length))
    }

    /// Flushes every dirty page and inode of the file system holding `descriptor`
    /// (Linux `syncfs`): one call makes a whole batch of files durable, where one
    /// `fsync` each costs a journal commit each. Returns 0, or the errno (`ENOSYS`
    /// where the system has no `syncfs`; the caller then syncs file by file).
    static func syncFileSystem(containing descriptor: Int32) -> Int32 {
        clibc_sync_file_system(descriptor) == 0 ? 0 : errno
    }
}
