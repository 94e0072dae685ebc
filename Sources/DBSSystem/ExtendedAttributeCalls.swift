internal import CLibc

/// Extended attributes through the `CLibc` shim, for the data layer: by path without
/// following a symlink, or by descriptor. Each returns the errno on failure.
package enum ExtendedAttributeCalls {
    /// The attribute names of `path` (or of `descriptor` when `path` is nil).
    package static func names(descriptor: Int32, path: PathBytes?) -> Result<[String], Errno> {
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let count = call(path) { clibc_list_xattr(descriptor, $0, &buffer, UInt(size)) }
            if count < 0 {
                if errno == ERANGE, size < 1 << 20 {
                    size *= 4
                    continue
                }
                return .failure(Errno(errno))
            }
            let bytes = buffer[0..<count].map { UInt8(bitPattern: $0) }
            return .success(bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// The value of `name`, at most `limit` bytes (E2BIG beyond).
    package static func value(descriptor: Int32, path: PathBytes?, name: String, limit: Int) -> Result<[UInt8], Errno> {
        var size = 4096
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count = call(path) { clibc_get_xattr(descriptor, $0, name, &buffer, UInt(size)) }
            if count < 0 {
                if errno == ERANGE {
                    guard size < limit else { return .failure(Errno(E2BIG)) }
                    size = min(size * 4, limit)
                    continue
                }
                return .failure(Errno(errno))
            }
            return .success(Array(buffer[0..<count]))
        }
    }

    package static func set(descriptor: Int32, path: PathBytes?, name: String, value: [UInt8]) -> Errno? {
        let result = call(path) { pathPointer in
            value.withUnsafeBytes { clibc_set_xattr(descriptor, pathPointer, name, $0.baseAddress, UInt($0.count)) }
        }
        return result == 0 ? nil : Errno(errno)
    }

    private static func call<T>(_ path: PathBytes?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let path else { return body(nil) }
        return path.withCString { body($0) }
    }

    /// The errno of a failed call (a `Result`'s failure: the callers warn and go on).
    package struct Errno: Error {
        package let code: Int32
        init(_ code: Int32) { self.code = code }
    }
}
