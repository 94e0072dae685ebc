import DBSIO
import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSPayload

// Seeded randomness: `SeededGenerator` (ReedSolomonTestSupport.swift).

/// An entry to write and what reading it back must give.
struct TestEntry {
    var metadata: EntryMetadata
    var content: [UInt8] = []
}

func timestamp(_ seconds: Int64, _ nanoseconds: UInt32 = 0) -> FileTimestamp {
    FileTimestamp(seconds: seconds, nanoseconds: nanoseconds)
}

/// Writes `entries` as a payload, handing content over in pieces of `pieceSize`.
/// `checksEntryPaths` false writes paths the writer refuses (hostile payloads for
/// the restore to refuse).
func makePayload(
    _ entries: [TestEntry], metadata: [String: String] = [:], pieceSize: Int = 100_003,
    checksEntryPaths: Bool = true
) throws -> [UInt8] {
    let sink = MemorySink()
    let writer = try PayloadWriter(sink: sink, metadata: metadata)
    writer.checksEntryPaths = checksEntryPaths
    for entry in entries {
        try writer.beginEntry(entry.metadata)
        var offset = 0
        while offset < entry.content.count {
            let end = min(entry.content.count, offset + pieceSize)
            try writer.writeContent(Array(entry.content[offset..<end]))
            offset = end
        }
        try writer.endEntry()
    }
    _ = try writer.finish()
    return sink.bytes
}

/// Reads a whole payload: every entry with its content.
func readPayload(_ bytes: [UInt8], readSize: Int = 65_537) throws -> [TestEntry] {
    let reader = try PayloadReader(source: MemorySource(bytes))
    var entries: [TestEntry] = []
    while let metadata = try reader.nextEntry() {
        var content: [UInt8] = []
        while case let piece = try reader.readContent(maxLength: readSize), !piece.isEmpty {
            content += piece
        }
        entries.append(TestEntry(metadata: metadata, content: content))
    }
    return entries
}
