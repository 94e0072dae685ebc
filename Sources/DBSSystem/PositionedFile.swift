/// An open file descriptor, read and written at explicit offsets (`pread`/`pwrite`).
///
/// Positioned I/O has no shared file position, so the pipeline's worker threads read
/// different stripes of one file at the same time without locking; that is why this
/// type is `@unchecked Sendable`: its only state is the descriptor, which is immutable
/// until `deinit` closes it (its owner is never released nor closed early).
package final class PositionedFile: @unchecked Sendable {
    /// The path the descriptor was opened from, for error messages.
    package let path: String
    private let owner: FileDescriptor
    private var descriptor: Int32 { owner.raw }

    private init(path: String, descriptor: Int32) {
        self.path = path
        owner = FileDescriptor(descriptor)
    }

    /// Takes ownership of an open read-write descriptor (an unnamed O_TMPFILE file).
    convenience init(adopting descriptor: Int32, path: String) {
        self.init(path: path, descriptor: descriptor)
    }

    /// The descriptor, for giving an unnamed file its name (AtomicOutputFile).
    var descriptorForLinking: Int32 { descriptor }

    /// Opens an existing file read-only.
    package static func openForReading(_ path: String) throws(IOError) -> PositionedFile {
        let fd = try SystemCall.retryingInterrupts("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        return PositionedFile(path: path, descriptor: fd)
    }

    /// Creates a new file, read-write, failing if anything exists at `path` (O_EXCL):
    /// a temp file must never be someone else's file.
    package static func createExclusive(_ path: String, mode: mode_t = 0o600) throws(IOError) -> PositionedFile {
        let fd = try SystemCall.retryingInterrupts("create", path: path) {
            open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        }
        // The umask may have cleared bits but never adds any; set exactly `mode`.
        _ = fchmod(fd, mode)
        return PositionedFile(path: path, descriptor: fd)
    }

    /// The current length of the file.
    package func size() throws(IOError) -> UInt64 {
        var info = stat()
        try SystemCall.retryingInterrupts("fstat", path: path) { fstat(descriptor, &info) }
        return UInt64(max(info.st_size, 0))
    }

    /// Reads into `buffer` from `offset` until it is full or the file ends; returns the
    /// number of bytes read (short only at the end of the file).
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(IOError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try SystemCall.retryingInterrupts("pread at \(offset + UInt64(done))", path: path) {
                pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads into `buffer[range]` from `offset`; bytes past the end of the file are
    /// left untouched. Returns the number of bytes read.
    package func read(into buffer: inout [UInt8], range: Range<Int>, at offset: UInt64) throws(IOError) -> Int {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count)
        if range.isEmpty { return 0 }
        return try buffer.withTypedUnsafeMutableBytes { raw throws(IOError) in
            try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[range]), at: offset)
        }
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    package func read(count: Int, at offset: UInt64) throws(IOError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try read(into: &bytes, range: 0..<count, at: offset)
        bytes.removeLast(count - n)
        return bytes
    }

    /// Writes all of `bytes` at `offset`; a short write the kernel does not explain is
    /// reported as `EIO`, a full disk as `ENOSPC`.
    package func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(IOError) {
        var done = 0
        while done < bytes.count {
            let n = try SystemCall.retryingInterrupts("pwrite at \(offset + UInt64(done))", path: path) {
                pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { throw IOError(path: path, operation: "pwrite at \(offset + UInt64(done))", errno: EIO) }
            done += n
        }
    }

    package func write(_ bytes: ArraySlice<UInt8>, at offset: UInt64) throws(IOError) {
        try bytes.withTypedUnsafeBytes { raw throws(IOError) in try write(raw, at: offset) }
    }

    package func write(_ bytes: [UInt8], at offset: UInt64) throws(IOError) {
        try bytes.withTypedUnsafeBytes { raw throws(IOError) in try write(raw, at: offset) }
    }

    /// Sets the file's length (extending with zeros or cutting).
    package func truncate(to length: UInt64) throws(IOError) {
        try SystemCall.retryingInterrupts("ftruncate to \(length)", path: path) { ftruncate(descriptor, off_t(length)) }
    }

    /// Asks the kernel to start writing `length` bytes from `offset` to the device now,
    /// without waiting for it (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing
    /// elsewhere). Writeback then overlaps the work that follows instead of all of it
    /// waiting in the final `sync()`. Advisory: it changes no data and no error is
    /// reported from it (`sync()` reports them).
    package func startWriteback(offset: UInt64, length: UInt64) {
        FileSystemSync.startWriteback(descriptor: descriptor, offset: offset, length: length)
    }

    /// Flushes the file's data and metadata to stable storage.
    package func sync() throws(IOError) {
        try SystemCall.retryingInterrupts("fsync", path: path) { fsync(descriptor) }
    }
}
