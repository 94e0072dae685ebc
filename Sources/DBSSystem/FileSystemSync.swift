internal import CLibc

/// The durability calls of the `CLibc` shim, for `PositionedFile` and for the layers
/// above IO, which never import a C module themselves.
package enum FileSystemSync {
    /// Starts writeback of `length` bytes from `offset` without waiting for it
    /// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing elsewhere than Linux).
    package static func startWriteback(descriptor: Int32, offset: UInt64, length: UInt64) {
        _ = clibc_start_writeback(descriptor, Int64(offset), Int64(length))
    }

    /// Flushes every dirty page and inode of the file system holding `descriptor`
    /// (Linux `syncfs`): one call makes a whole batch of files durable, where one
    /// `fsync` each costs a journal commit each. Returns 0, or the errno (`ENOSYS`
    /// where the system has no `syncfs`; the caller then syncs file by file).
    package static func syncFileSystem(containing descriptor: Int32) -> Int32 {
        clibc_sync_file_system(descriptor) == 0 ? 0 : errno
    }

    /// Whether `syncFileSystem` can work here (Linux); elsewhere callers fsync each file.
    package static var hasFileSystemSync: Bool {
        #if os(Linux)
        true
        #else
        false
        #endif
    }

    /// An unnamed file (O_TMPFILE) in the directory `directory`, mode `mode`: nothing
    /// at any path until `linkUnnamed`, so a killed process leaves nothing behind.
    /// Returns the descriptor, or -1 with errno set (EOPNOTSUPP, EISDIR, EINVAL where
    /// there is no O_TMPFILE: the caller falls back to a named temporary file).
    package static func openUnnamed(in directory: Int32, mode: Int32) -> Int32 {
        clibc_open_unnamed(directory, mode)
    }

    /// Names an unnamed file: `name` in `directory` (linkat; EEXIST when taken).
    /// Returns 0 or the errno.
    package static func linkUnnamed(_ descriptor: Int32, in directory: Int32, as name: UnsafePointer<CChar>) -> Int32 {
        clibc_link_unnamed(descriptor, directory, name) == 0 ? 0 : errno
    }
}
