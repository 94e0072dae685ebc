import DBSKit
import Foundation

/// Standard input as one streamed file entry (`dbs backup OUTPUT -`): its size is not
/// known until the end, so the entry is marked streamed and the payload records the
/// real size in its end frame. Read in 1 MiB blocks: memory stays bounded and nothing
/// is spooled to disk in the clear.
struct StandardInputEntry {
    let name: String

    func write(to payload: PayloadWriter) throws {
        let now = Date().timeIntervalSince1970
        let metadata = EntryMetadata(
            path: PathBytes(name), kind: .file, mode: 0o600,
            modificationTime: FileTimestamp(
                seconds: Int64(now),
                nanoseconds: UInt32((now - now.rounded(.down)) * 1e9)),
            size: 0, isStreamed: true)
        try payload.beginEntry(metadata)
        try FileSystem.forEachBlock(of: STDIN_FILENO, named: "standard input") { try payload.writeContent($0) }
        try payload.endEntry()
    }
}
