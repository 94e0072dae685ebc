// Turning C arguments into Swift values, refusing what is unusable with a
// `UsageError` that names the argument. Only here does the C layer read through a
// caller's pointers to build values; everything above works on Swift values.

import DBSKit
import DBSSystem

/// A required NUL-terminated UTF-8 string.
func cString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(UsageError) -> String {
    guard let pointer else { throw UsageError("\(name) is NULL") }
    guard let string = String(validatingCString: pointer) else { throw UsageError("\(name) is not valid UTF-8") }
    return string
}

/// A required NUL-terminated string of bytes, not necessarily UTF-8 (an entry path
/// or link target: a file system's names are bytes).
func cBytes(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(UsageError) -> PathBytes {
    guard let pointer else { throw UsageError("\(name) is NULL") }
    return PathBytes(bytes: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
}

/// An optional NUL-terminated UTF-8 string: NULL is nil.
func optionalCString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(UsageError) -> String? {
    guard let pointer else { return nil }
    return try cString(pointer, name)
}

/// A C `size_t` as an Int (Swift's exported `UInt` is `size_t` in C): more than
/// Int.max is no length any buffer has.
func cSize(_ value: UInt, _ name: String) throws(UsageError) -> Int {
    guard let size = Int(exactly: value) else { throw UsageError("\(name) \(value) is larger than any buffer") }
    return size
}

/// `count` strings from a C array of string pointers.
func cStrings(
    _ pointer: UnsafePointer<UnsafePointer<CChar>?>?, count: UInt, _ name: String
) throws(UsageError) -> [String] {
    let count = try cSize(count, "\(name) count")
    guard count > 0 else { throw UsageError("\(name): count is 0, nothing to back up") }
    guard let pointer else { throw UsageError("\(name) is NULL") }
    var strings: [String] = []
    strings.reserveCapacity(count)
    for index in 0..<count {
        strings.append(try cString(pointer[index], "\(name)[\(index)]"))
    }
    return strings
}

/// A passphrase as bytes plus length, copied into memory that is wiped when the
/// returned object goes (the caller's buffer is never kept). Writing refuses an
/// empty passphrase: it would protect nothing.
func passphrase(_ bytes: UnsafeRawPointer?, length: UInt, allowEmpty: Bool) throws(UsageError) -> SecureBytes {
    let length = try cSize(length, "passphrase length")
    guard length > 0 || allowEmpty else { throw UsageError("the passphrase is empty") }
    guard length > 0 else { return SecureBytes(count: 0) }
    guard let bytes else { throw UsageError("passphrase is NULL with length \(length)") }
    return SecureBytes(UnsafeRawBufferPointer(start: bytes, count: length))
}

/// A thread count: 0 means one per core.
func threadCount(_ threads: Int32) throws(UsageError) -> Int {
    if threads == 0 { return BackupOptions.coreCount }
    guard BackupOptions.threadLimits.contains(Int(threads)) else {
        throw UsageError(
            "threads \(threads) is outside 0...\(BackupOptions.threadLimits.upperBound) (0 = one per core)")
    }
    return Int(threads)
}

/// A handle passed back by the caller. Its object stays alive: the handle holds a
/// retain from its open call until its close call.
func object<T: AnyObject>(_ handle: OpaquePointer?, _ name: String) throws(UsageError) -> T {
    guard let handle else { throw UsageError("\(name) is NULL") }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// A new handle owning one retain of `object`.
func handle(retaining object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

/// Gives up the handle's retain: the object goes unless someone else holds it.
func release<T: AnyObject>(_ handle: OpaquePointer, as type: T.Type) {
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).release()
}
