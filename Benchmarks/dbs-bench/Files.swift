import DBSSystem

struct FileError: Error, CustomStringConvertible {
    let path: String
    let operation: String
    let code: Int32
    var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// The whole file's bytes.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileError(path: path, operation: "stat", code: errno) }
    let size = Int(info.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    try bytes.withUnsafeMutableBytes { raw in
        while done < size {
            let n = pread(fd, raw.baseAddress! + done, size - done, off_t(done))
            guard n > 0 else { throw FileError(path: path, operation: "read", code: n == 0 ? EIO : errno) }
            done += n
        }
    }
    return bytes
}

/// Writes `bytes` as the whole file at `path`.
func writeFile(_ bytes: [UInt8], to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
    defer { close(fd) }
    var done = 0
    try bytes.withUnsafeBytes { raw in
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            guard n > 0 else { throw FileError(path: path, operation: "write", code: errno) }
            done += n
        }
    }
}
