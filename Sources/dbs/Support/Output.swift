import DBSKit
import Foundation

/// Unbuffered writes to stderr or stdout, for messages and the progress line.
struct FileHandleStream {
    let descriptor: Int32
    static let standardError = FileHandleStream(descriptor: STDERR_FILENO)
    static let standardOutput = FileHandleStream(descriptor: STDOUT_FILENO)

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
    }
}

/// The one JSON document a `--json` command prints on stdout: snake_case keys in a
/// stable order, so scripts can rely on them.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandleStream.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
}

/// A message for the operator, on stderr (stdout stays free for data and JSON).
func note(_ text: String) {
    FileHandleStream.standardError.write(text + "\n")
}

/// Bytes as people read them: 1.5 GiB, 12.0 MiB.
func formatBytes<T: BinaryInteger>(_ count: T) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
}

extension PathBytes {
    /// A name's exact bytes for `--json`, where a name is not valid UTF-8 (a JSON string
    /// cannot hold it): base64 (RFC 4648, padded). nil for a UTF-8 name, whose text
    /// field is already exact.
    var jsonBytes: String? { isUTF8 ? nil : Data(bytes).base64EncodedString() }
}
