/// The one loop that retries a system call a signal interrupted, and turns its failure
/// into an `IOError`.
package enum SystemCall {
    /// Runs `call` until it does not fail with EINTR (a signal arrived before it did
    /// anything); a -1 result with any other errno throws that errno as the
    /// `operation` on `path`. `operation` is built only on failure, so a call in a
    /// loop (pread at an offset) pays nothing for its message.
    @discardableResult
    package static func retryingInterrupts<T: BinaryInteger>(
        _ operation: @autoclosure () -> String, path: String, _ call: () -> T
    ) throws(IOError) -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = currentErrno()
            if code != EINTR { throw IOError(path: path, operation: operation(), errno: code) }
        }
    }
}
