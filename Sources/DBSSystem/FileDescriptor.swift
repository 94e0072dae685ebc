/// An open file descriptor and the duty to close it: closed when its owner lets go of
/// it, earlier by `close(reportingAs:)` (which reports the error `deinit` has to
/// ignore), or never by this object once `release()` has handed it on.
///
/// The one owner of a descriptor in the package: `PositionedFile`, `AtomicOutputFile`
/// and the file-tree code all hold theirs in one of these.
package final class FileDescriptor {
    /// The descriptor number, for the system calls.
    package let raw: Int32
    private var isOpen = true

    /// Takes ownership of `raw`, an open descriptor.
    package init(_ raw: Int32) { self.raw = raw }

    deinit { if isOpen { _ = closeDescriptor(raw) } }

    /// Gives the descriptor up to a new owner (a restore's writer lane, which closes
    /// it): this object will not close it.
    package func release() -> Int32 {
        isOpen = false
        return raw
    }

    /// Closes now, reporting a failure (`EIO` from a network file system's deferred
    /// write) as the `close` of `path`. Never retried: on Linux the descriptor is gone
    /// even when close(2) fails with EINTR, and a retry could close another thread's.
    package func close(reportingAs path: String) throws(IOError) {
        guard isOpen else { return }
        isOpen = false
        if closeDescriptor(raw) != 0 { throw IOError.last(path: path, operation: "close") }
    }
}

/// close(2), named apart from `FileDescriptor.close(reportingAs:)`.
private func closeDescriptor(_ raw: Int32) -> Int32 { close(raw) }
