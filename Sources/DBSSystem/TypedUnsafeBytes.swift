/// The package's one adapter between typed throws and the standard library's
/// `rethrows` byte access.
///
/// `Array.withUnsafeBytes` and `withUnsafeMutableBytes` (and `ArraySlice`'s) are
/// `rethrows`: the error of a closure that throws `SecurityError` or `IOError` comes out
/// of them as `any Error`, and a caller that throws a typed error would have to cast it
/// back (and decide what to do with an error of another type). These lend the same
/// bytes with the closure's error type kept: its outcome crosses the `rethrows` call as
/// a `Result` and is thrown again on the other side, so no error is cast, converted or
/// lost, and the compiler checks the type. `SecureBytes` and `AlignedBuffer` lend their
/// bytes with typed throws of their own.
package protocol TypedUnsafeBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R
}

extension TypedUnsafeBytes {
    /// `withUnsafeBytes`, throwing `body`'s own error type.
    package func withTypedUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withUnsafeBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
    }

    /// `withUnsafeMutableBytes`, throwing `body`'s own error type.
    package mutating func withTypedUnsafeMutableBytes<R, E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        try withUnsafeMutableBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
    }
}

extension Array: TypedUnsafeBytes {}
extension ArraySlice: TypedUnsafeBytes {}
