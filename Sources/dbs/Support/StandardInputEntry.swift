import DBSKit
import Foundation

/// Standard input as one streamed file entry (`dbs backup OUTPUT -`): its size is not
/// known until the end, so the entry is marked streamed and the payload records the
/// real size in its end frame. Read in 1 MiB blocks: memory stays bounded and nothing
/// is spooled to disk in the clear.
struct StandardInputEntry {
    let name: String

    func write(to payload: PayloadWriter, progress: ProgressLine? = nil) throws {
        let now = Date().timeIntervalSince1970
        let metadata = EntryMetadata(
            path: name, kind: .file, mode: 0o600,
            modificationTime: FileTimestamp(seconds: Int64(now),
                                            nanoseconds: UInt32((now - now.rounded(.down)) * 1e9)),
            size: 0, isStreamed: true)
        try payload.beginEntry(metadata)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw CLIFailure(.io, "cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try payload.writeContent(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
        try payload.endEntry()
    }
}
