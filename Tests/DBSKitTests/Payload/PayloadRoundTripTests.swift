import DBSIO
import DBSSecurity
import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSPayload

@Suite("Payload round trips")
struct PayloadRoundTripTests {
    static let chunk = PayloadFormat.maxContentFrameSize

    /// Every kind, empty and chunk-straddling contents, unicode names, extras.
    static func sampleEntries() -> [TestEntry] {
        var random = SeededGenerator(seed: 1)
        var entries: [TestEntry] = [
            TestEntry(
                metadata: EntryMetadata(
                    path: "root", kind: .directory, mode: 0o755,
                    modificationTime: timestamp(1_700_000_000, 999_999_999))),
            TestEntry(
                metadata: EntryMetadata(
                    path: "root/empty", kind: .file, mode: 0o600,
                    modificationTime: timestamp(-5, 1))),
            TestEntry(
                metadata: EntryMetadata(
                    path: "root/café ünï/📦 naïve.txt", kind: .file, mode: 0o4755,
                    modificationTime: timestamp(1, 2), size: 5),
                content: Array("héllo".utf8.prefix(5))),
            TestEntry(
                metadata: EntryMetadata(
                    path: "root/link", kind: .symlink, mode: 0o777,
                    modificationTime: timestamp(3, 4), linkTarget: "../элемент/target")),
            TestEntry(
                metadata: EntryMetadata(
                    path: "root/abs", kind: .symlink, mode: 0o777,
                    modificationTime: timestamp(3, 4), linkTarget: "/etc/hostname",
                    extra: ["note": "absolute"])),
            TestEntry(
                metadata: EntryMetadata(
                    path: "records/shop.Order", kind: .records, mode: 0,
                    modificationTime: timestamp(9), isStreamed: true, modelLabel: "shop.Order",
                    extra: ["app": "shop", "count": "2"]),
                content: Array("{\"pk\": 1}\n{\"pk\": 2}\n".utf8)),
            TestEntry(
                metadata: EntryMetadata(
                    path: "records/empty.Model", kind: .records, mode: 0o644,
                    modificationTime: timestamp(9), modelLabel: "empty.Model")),
            TestEntry(
                metadata: EntryMetadata(
                    path: "records/sized.Model", kind: .records, mode: 0o600,
                    modificationTime: timestamp(9), size: 3, modelLabel: "sized.Model"),
                content: Array("{}\n".utf8)),
            TestEntry(
                metadata: EntryMetadata(
                    path: "stdin", kind: .file, mode: 0o600,
                    modificationTime: timestamp(10), isStreamed: true),
                content: Array(repeating: 0x41, count: 3 * chunk + 1)),
            TestEntry(
                metadata: EntryMetadata(
                    path: "emptydir", kind: .directory, mode: 0o700,
                    modificationTime: timestamp(0))),
        ]
        for (index, size) in [1, chunk - 1, chunk, chunk + 1, 2 * chunk + chunk / 2].enumerated() {
            entries.append(
                TestEntry(
                    metadata: EntryMetadata(
                        path: "root/sized-\(index)", kind: .file, mode: 0o644,
                        modificationTime: timestamp(Int64(index)), size: UInt64(size)),
                    content: random.bytes(size)))
        }
        for index in 0..<300 {
            let content = random.bytes(Int.random(in: 0...300, using: &random))
            entries.append(
                TestEntry(
                    metadata: EntryMetadata(
                        path: "many/\(index)", kind: .file, mode: 0o640,
                        modificationTime: timestamp(Int64(index), UInt32(index)),
                        size: UInt64(content.count)),
                    content: content))
        }
        return entries
    }

    @Test func everyKindRoundTrips() throws {
        let entries = Self.sampleEntries()
        let bytes = try makePayload(entries, metadata: ["apps": "shop,blog", "host": "tëst"])
        let reader = try PayloadReader(source: MemorySource(bytes))
        #expect(reader.metadata["apps"] == "shop,blog")
        #expect(reader.metadata["host"] == "tëst")
        #expect(reader.metadata["tool_version"] == PayloadFormat.toolVersion)
        #expect(reader.metadata["payload_version"] == "2")
        #expect(reader.metadata["created"]?.hasSuffix("Z") == true)

        var index = 0
        var total: UInt64 = 0
        while let metadata = try reader.nextEntry() {
            let expected = entries[index]
            #expect(metadata == expected.metadata)
            var content: [UInt8] = []
            while case let piece = try reader.readContent(maxLength: 77_777), !piece.isEmpty {
                #expect(piece.count <= 77_777)
                content += piece
            }
            #expect(content == expected.content, "content of \(metadata.path)")
            #expect(reader.lastEntryDigest == SHA256Hasher.hash(expected.content))
            #expect(reader.lastEntrySize == UInt64(expected.content.count))
            // Reading past the end keeps returning [].
            #expect(try reader.readContent(maxLength: 10) == [])
            total += UInt64(content.count)
            index += 1
        }
        #expect(index == entries.count)
        #expect(try reader.nextEntry() == nil)
        let summary = try #require(reader.summary)
        #expect(summary.entryCount == UInt64(entries.count))
        #expect(summary.contentBytes == total)
    }

    @Test func writerSummaryMatchesReaderAndHashesThePayload() throws {
        let sink = MemorySink()
        let writer = try PayloadWriter(sink: sink, metadata: [:])
        try writer.beginEntry(
            EntryMetadata(path: "a", kind: .file, mode: 0o644, modificationTime: timestamp(1), size: 3))
        try writer.writeContent([1, 2, 3])
        #expect(try writer.endEntry() == SHA256Hasher.hash([1, 2, 3]))
        let summary = try writer.finish()
        #expect(summary.entryCount == 1)
        #expect(summary.contentBytes == 3)
        #expect(summary.sha256 == independentPayloadDigest(sink.bytes))
        let reader = try PayloadReader(source: MemorySource(sink.bytes))
        while try reader.nextEntry() != nil {}
        #expect(reader.summary == summary)
    }

    @Test func documentedLimits() {
        // docs/PAYLOAD.md states these numbers; a change here is a format change.
        #expect(FrameType.entryHeader.bodyLengthLimit == 341_813)
        #expect(FrameType.content.bodyLengthLimit == 1 << 20)
        #expect(FrameType.metadata.bodyLengthLimit == 1 << 20)
        #expect(FrameType.header.bodyLengthLimit == 10)
        #expect(FrameType.entryEnd.bodyLengthLimit == 40)
        #expect(FrameType.end.bodyLengthLimit == 48)
    }

    /// docs/PAYLOAD.md's digest, computed from the bytes alone: every frame header
    /// before the end frame, and every body but chunks'.
    func independentPayloadDigest(_ bytes: [UInt8]) -> [UInt8] {
        var covered: [UInt8] = []
        var offset = 0
        while offset + 6 <= bytes.count, bytes[offset] != 0x7F {
            let length =
                Int(bytes[offset + 2]) | Int(bytes[offset + 3]) << 8
                | Int(bytes[offset + 4]) << 16 | Int(bytes[offset + 5]) << 24
            covered += bytes[offset..<(offset + 6)]
            if bytes[offset] != 0x11 { covered += bytes[(offset + 6)..<(offset + 6 + length)] }
            offset += 6 + length
        }
        return SHA256Hasher.hash(covered)
    }

    @Test func payloadDigestMatchesTheDocumentedDefinition() throws {
        let bytes = try makePayload(Self.sampleEntries(), metadata: ["k": "v"])
        let reader = try PayloadReader(source: MemorySource(bytes))
        while try reader.nextEntry() != nil {}
        // The end frame's last 32 bytes are the digest.
        #expect(reader.summary?.sha256 == Array(bytes.suffix(32)))
        #expect(Array(bytes.suffix(32)) == independentPayloadDigest(bytes))
    }

    @Test func payloadWithoutEntries() throws {
        let bytes = try makePayload([])
        #expect(try readPayload(bytes).isEmpty)
        let reader = try PayloadReader(source: MemorySource(bytes))
        #expect(try reader.nextEntry() == nil)
        #expect(reader.summary?.entryCount == 0)
        #expect(reader.summary?.contentBytes == 0)
    }

    @Test func contentArrivesInBoundedChunks() throws {
        let size = 3 * Self.chunk + 5
        var random = SeededGenerator(seed: 2)
        let content = random.bytes(size)
        let bytes = try makePayload(
            [
                TestEntry(
                    metadata: EntryMetadata(
                        path: "big", kind: .file, mode: 0o644,
                        modificationTime: timestamp(1), size: UInt64(size)),
                    content: content)
            ], pieceSize: size)
        let reader = try PayloadReader(source: MemorySource(bytes))
        _ = try reader.nextEntry()
        var sizes: [Int] = []
        var content2: [UInt8] = []
        while case let piece = try reader.readContent(maxLength: .max), !piece.isEmpty {
            sizes.append(piece.count)
            content2 += piece
        }
        #expect(sizes == [Self.chunk, Self.chunk, Self.chunk, 5])
        #expect(content2 == content)
    }

    @Test func skippedContentIsStillVerified() throws {
        let entries = Self.sampleEntries()
        let bytes = try makePayload(entries)
        let reader = try PayloadReader(source: MemorySource(bytes))
        var count = 0
        while let entry = try reader.nextEntry() {
            if count % 2 == 0 { try reader.skipContent() }
            if count % 2 == 0 { #expect(reader.lastEntryDigest?.count == 32, "\(entry.path)") }
            count += 1
        }
        #expect(count == entries.count)

        // A damaged chunk is reported even when nobody reads it.
        var damaged = bytes
        let marker = Array("héllo".utf8.prefix(5))
        let at = try #require(firstIndex(of: marker, in: damaged))
        damaged[at] ^= 0x20
        let reader2 = try PayloadReader(source: MemorySource(damaged))
        #expect(throws: PayloadError.contentHashMismatch(path: "root/café ünï/📦 naïve.txt")) {
            while try reader2.nextEntry() != nil {}
        }
    }

    @Test func writerRefusesMisuse() throws {
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        let file = EntryMetadata(path: "f", kind: .file, mode: 0o644, modificationTime: timestamp(1), size: 4)
        #expect(throws: PayloadError.invalidState("content written outside an entry")) { try writer.writeContent([1]) }
        try writer.beginEntry(file)
        #expect(throws: PayloadError.invalidState("'g' begun while 'f' is still open")) {
            try writer.beginEntry(EntryMetadata(path: "g", kind: .directory, mode: 0, modificationTime: timestamp(1)))
        }
        try writer.writeContent([1, 2, 3])
        #expect(throws: PayloadError.contentSizeMismatch(path: "f", declared: 4, actual: 3)) { try writer.endEntry() }
        #expect(throws: PayloadError.contentSizeMismatch(path: "f", declared: 4, actual: 5)) {
            try writer.writeContent([4, 5])
        }

        let writer2 = try PayloadWriter(sink: MemorySink(), metadata: [:])
        try writer2.beginEntry(EntryMetadata(path: "d", kind: .directory, mode: 0o755, modificationTime: timestamp(1)))
        #expect(throws: PayloadError.invalidEntry(path: "d", reason: "a directory has no content")) {
            try writer2.writeContent([1])
        }
        #expect(throws: PayloadError.invalidState("finish while 'd' is still open")) { _ = try writer2.finish() }
        try writer2.endEntry()
        _ = try writer2.finish()
        #expect(throws: PayloadError.invalidState("the payload is already finished")) { _ = try writer2.finish() }

        #expect(throws: PayloadError.invalidMetadata("key 'created' is reserved for the writer")) {
            _ = try PayloadWriter(sink: MemorySink(), metadata: ["created": "yesterday"])
        }
        let writer3 = try PayloadWriter(sink: MemorySink(), metadata: [:])
        #expect(throws: PayloadError.invalidEntry(path: "", reason: "empty path")) {
            try writer3.beginEntry(EntryMetadata(path: "", kind: .directory, mode: 0, modificationTime: timestamp(0)))
        }
        #expect(throws: PayloadError.invalidEntry(path: "s", reason: "a symlink without a target")) {
            try writer3.beginEntry(EntryMetadata(path: "s", kind: .symlink, mode: 0, modificationTime: timestamp(0)))
        }
        #expect(throws: PayloadError.invalidEntry(path: "r", reason: "records without a model label")) {
            try writer3.beginEntry(EntryMetadata(path: "r", kind: .records, mode: 0, modificationTime: timestamp(0)))
        }
        let longPath = String(repeating: "a", count: PayloadFormat.maxPathBytes + 1)
        #expect(throws: PayloadError.invalidEntry(path: longPath, reason: "path is 4097 bytes, more than 4096")) {
            try writer3.beginEntry(
                EntryMetadata(path: PathBytes(longPath), kind: .directory, mode: 0, modificationTime: timestamp(0)))
        }
    }

    @Test func streamedEntriesCarryTheirSizeAtTheEnd() throws {
        // Streamed entries declare size 0 and carry whatever was written.
        let lines = Array(String(repeating: "{\"model\": \"a.b\"}\n", count: 100_000).utf8)
        let entry = TestEntry(
            metadata: EntryMetadata(
                path: "a.b", kind: .records, mode: 0o600,
                modificationTime: timestamp(5), isStreamed: true, modelLabel: "a.b"),
            content: lines)
        let bytes = try makePayload([entry])
        let read = try readPayload(bytes)
        #expect(read.count == 1)
        #expect(read[0].content == lines)
        #expect(read[0].metadata.modelLabel == "a.b")
        #expect(read[0].metadata.isStreamed)
        let reader = try PayloadReader(source: MemorySource(bytes))
        _ = try reader.nextEntry()
        try reader.skipContent()
        #expect(reader.lastEntrySize == UInt64(lines.count))

        // Without the flag a records entry's size is exact, like a file's.
        let writer = try PayloadWriter(sink: MemorySink(), metadata: [:])
        try writer.beginEntry(
            EntryMetadata(
                path: "r", kind: .records, mode: 0, modificationTime: timestamp(1),
                size: 2, modelLabel: "a.b"))
        #expect(throws: PayloadError.contentSizeMismatch(path: "r", declared: 2, actual: 3)) {
            try writer.writeContent([1, 2, 3])
        }
        #expect(throws: PayloadError.invalidEntry(path: "d", reason: "a directory cannot be streamed")) {
            try EntryMetadata(path: "d", kind: .directory, mode: 0, modificationTime: timestamp(1), isStreamed: true)
                .validate()
        }
        #expect(throws: PayloadError.invalidEntry(path: "f", reason: "a streamed entry has size 5, must be 0")) {
            try EntryMetadata(
                path: "f", kind: .file, mode: 0, modificationTime: timestamp(1), size: 5, isStreamed: true
            ).validate()
        }
    }
}

func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - needle.count)
    where haystack[start..<(start + needle.count)].elementsEqual(needle) {
        return start
    }
    return nil
}
