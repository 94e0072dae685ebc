// dbs_entry_info <-> EntryMetadata.

internal import CDBSHeader
import DBSKit
import DBSSystem

extension EntryMetadata {
    /// The entry a writer's caller describes. The payload writer checks the rules
    /// between the fields (a symlink has a target...); this checks what C can get
    /// wrong that Swift types cannot hold.
    init(_ info: dbs_entry_info) throws(UsageError) {
        guard info.kind >= 0, info.kind <= Int32(UInt8.max), let kind = EntryKind(rawValue: UInt8(info.kind)) else {
            throw UsageError("entry kind \(info.kind) is not a DBS_ENTRY_* value")
        }
        guard info.mtime_nsec < 1_000_000_000 else {
            throw UsageError("entry mtime_nsec \(info.mtime_nsec) is outside 0...999999999")
        }
        // Paths and link targets are names as a file system has them: bytes, not
        // necessarily UTF-8 (dbs.h says so).
        self.init(
            path: try cBytes(info.path, "entry path"), kind: kind, mode: info.mode,
            modificationTime: FileTimestamp(seconds: info.mtime_sec, nanoseconds: info.mtime_nsec),
            size: info.size, isStreamed: info.streamed != 0,
            linkTarget: try info.link_target.map { (pointer) throws(UsageError) in
                try cBytes(pointer, "entry link_target")
            },
            modelLabel: try optionalCString(info.model_label, "entry model_label"))
    }
}

/// C copies of one entry's strings, owned by a reader and handed out in a
/// dbs_entry_info until the next entry replaces them.
final class EntryStrings {
    private var strings: [UnsafeMutablePointer<CChar>] = []

    deinit { clear() }

    func clear() {
        for string in strings { free(string) }
        strings = []
    }

    /// Replaces the strings with `entry`'s and returns the info that points to them.
    func info(for entry: EntryMetadata) -> dbs_entry_info {
        clear()
        var info = dbs_entry_info()
        info.path = keep(entry.path)
        info.kind = Int32(entry.kind.rawValue)
        info.mode = entry.mode
        info.mtime_sec = entry.modificationTime.seconds
        info.mtime_nsec = entry.modificationTime.nanoseconds
        info.size = entry.size
        info.streamed = entry.isStreamed ? 1 : 0
        info.link_target = entry.linkTarget.flatMap(keep)
        info.model_label = entry.modelLabel.flatMap { keep(PathBytes($0)) }
        return info
    }

    /// A NUL-terminated copy of the bytes (UTF-8 or not: a path is handed out as the
    /// payload has it, never replaced by a lossy text).
    private func keep(_ string: PathBytes) -> UnsafePointer<CChar>? {
        guard let copy = string.withCString({ strdup($0) }) else { return nil }
        strings.append(copy)
        return UnsafePointer(copy)
    }
}
