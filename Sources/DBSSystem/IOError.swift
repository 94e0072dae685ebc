/// A failed system call on a file: which file, which operation, and the `errno` the
/// kernel gave, so that a user can tell a full disk from a missing directory.
///
/// The package's one error for a failed system call: `SystemCall`, `FileDescriptor`,
/// `PositionedFile` and `AtomicOutputFile` throw it, and the layers above keep it (or
/// its three fields) as the cause of their own errors.
public struct IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path the operation was about.
    public var path: String
    /// What was being done: "open", "pwrite", "fsync", "rename", ...
    public var operation: String
    /// The `errno` value; `EIO` when the failure was a short read or write that the
    /// kernel did not explain.
    public var errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    /// `errno` as text, from `strerror`.
    public var reason: String { Self.reason(errno) }

    /// `code` as text, from `strerror`.
    package static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// True for "no space left on device" and "disk quota exceeded".
    package var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "\(operation) \(path): \(reason) (errno \(errno))" }

    /// The error for the failed call that just returned, from the thread's `errno`.
    package static func last(path: String, operation: String) -> IOError {
        IOError(path: path, operation: operation, errno: currentErrno())
    }
}

/// The calling thread's `errno` (a free function because `IOError.errno` shadows it).
package func currentErrno() -> Int32 { errno }
