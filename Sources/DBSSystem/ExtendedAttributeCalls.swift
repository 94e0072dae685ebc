internal import CLibc

/// Extended attributes through the `CLibc` shim, for the data layer: by path without
/// following a symlink, or by descriptor. Each throws the package's one system-call
/// error, `IOError`, with the call, the name it was shown as and the errno; the data
/// layer reads the errno to tell "not supported here" from a real failure.
package enum ExtendedAttributeCalls {
    /// The attribute names of `path` (or of `descriptor` when `path` is nil).
    package static func names(descriptor: Int32, path: PathBytes?, shownAs shown: String) throws(IOError) -> [String] {
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let count = call(path) { clibc_list_xattr(descriptor, $0, &buffer, UInt(size)) }
            if count < 0 {
                let code = currentErrno()
                if code == ERANGE, size < 1 << 20 {
                    size *= 4
                    continue
                }
                throw IOError(path: shown, operation: "listxattr", errno: code)
            }
            let bytes = buffer[0..<count].map { UInt8(bitPattern: $0) }
            return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The value of `name`, at most `limit` bytes (E2BIG beyond).
    package static func value(
        descriptor: Int32, path: PathBytes?, name: String, limit: Int, shownAs shown: String
    ) throws(IOError) -> [UInt8] {
        var size = 4096
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count = call(path) { clibc_get_xattr(descriptor, $0, name, &buffer, UInt(size)) }
            if count < 0 {
                var code = currentErrno()
                if code == ERANGE {
                    if size < limit {
                        size = min(size * 4, limit)
                        continue
                    }
                    code = E2BIG
                }
                throw IOError(path: shown, operation: "getxattr \(name)", errno: code)
            }
            return Array(buffer[0..<count])
        }
    }

    /// Sets `name` to `value`.
    package static func set(
        descriptor: Int32, path: PathBytes?, name: String, value: [UInt8], shownAs shown: String
    ) throws(IOError) {
        let result = call(path) { pathPointer in
            value.withUnsafeBytes { clibc_set_xattr(descriptor, pathPointer, name, $0.baseAddress, UInt($0.count)) }
        }
        guard result != 0 else { return }
        let code = currentErrno()  // before the message's string is built
        throw IOError(path: shown, operation: "setxattr \(name)", errno: code)
    }

    private static func call<T>(_ path: PathBytes?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let path else { return body(nil) }
        return path.withCString { body($0) }
    }
}
