import DBSIO
import DBSSecurity
import FoundationEssentials

/// Writes entries as a payload (PayloadFrame.swift) into a byte sink.
///
/// Content may be handed over in pieces of any size; it leaves in content frames (type
/// 0x11, "chunk" on the wire) of at most `PayloadFormat.maxContentFrameSize` bytes, so the
/// writer holds one frame's content in memory whatever the size of a file.
///
///     let writer = try PayloadWriter(sink: sink, metadata: ["app": "shop"])
///     try writer.beginEntry(EntryMetadata(path: "a.txt", kind: .file, ...))
///     try writer.writeContent(bytes)
///     let sha256 = try writer.endEntry()
///     let summary = try writer.finish()
///
/// After any error the payload is unusable: the sink may hold half a frame.
public final class PayloadWriter {
    /// Metadata keys the writer fills in itself.
    package static let reservedMetadataKeys: Set<String> = ["created", "tool_version", "payload_version"]

    private let sink: any ByteSink
    private var payloadHasher = SHA256Hasher()
    private var entryCount: UInt64 = 0
    private var contentBytes: UInt64 = 0
    private var openEntry: OpenEntry?
    /// Kept apart from `openEntry` so that updating it never copies the digest context.
    private var entryHasher = SHA256Hasher()
    private var contentFrame: [UInt8]
    private var frameFill = 0
    private var finished = false

    private struct OpenEntry {
        var metadata: EntryMetadata
        var written: UInt64 = 0
    }

    /// Writes the header and metadata frames. `metadata` holds the host's key/values
    /// (the `dbs` command's `tool`, for example); the writer adds
    /// `created` (ISO 8601, UTC), `tool_version` and `payload_version`.
    package convenience init(sink: any ByteSink, metadata: [String: String]) throws {
        try self.init(sink: sink, metadata: metadata, formatVersion: PayloadFormat.version)
    }

    /// The payload format version written: 2, or 1 for tests that need what older
    /// DBS versions wrote (entries that need version 2 are then refused).
    let formatVersion: UInt16

    /// `stamp` fixes the writer's `created` and `tool_version` (else now and this
    /// build's version): for the test vectors only, which must not change with the
    /// clock or a release.
    init(
        sink: any ByteSink, metadata: [String: String], formatVersion: UInt16,
        stamp: (created: String, toolVersion: String)? = nil
    ) throws {
        self.sink = sink
        self.formatVersion = formatVersion
        self.contentFrame = [UInt8](repeating: 0, count: PayloadFormat.maxContentFrameSize)
        if let key = metadata.keys.first(where: Self.reservedMetadataKeys.contains) {
            throw PayloadError.invalidMetadata("key '\(key)' is reserved for the writer")
        }
        var document = metadata
        document["created"] = stamp?.created ?? Date().formatted(.iso8601)
        document["tool_version"] = stamp?.toolVersion ?? PayloadFormat.toolVersion
        document["payload_version"] = String(formatVersion)
        let json = try StringMapJSON.encode(document)
        guard json.count <= PayloadFormat.maxMetadataBytes else {
            throw PayloadError.invalidMetadata(
                "\(json.count) bytes of JSON, more than \(PayloadFormat.maxMetadataBytes)")
        }
        var header = FrameBodyEncoder()
        header.append(raw: PayloadFormat.magic)
        header.append(formatVersion)
        try writeFrame(.header, header.bytes)
        try writeFrame(.metadata, json)
    }

    /// Whether `beginEntry` refuses a path no restore would create (`EntryPath`):
    /// always, but for tests (`@testable`) that write the hostile payloads a restore
    /// must refuse. Internal, so no caller of the library, the C ABI included, can
    /// turn it off.
    var checksEntryPaths = true

    /// Opens an entry. Every entry, content or not, is closed with `endEntry()`.
    /// Refuses (`PayloadError.invalidEntry`) an entry that breaks the payload's rules
    /// or whose path no restore would create: empty, absolute, with NUL, an empty,
    /// "." or ".." component (`EntryPath`), also as a hard link's target.
    public func beginEntry(_ metadata: EntryMetadata) throws {
        try checkWritable()
        if let open = openEntry {
            throw PayloadError.invalidState("'\(metadata.path)' begun while '\(open.metadata.path)' is still open")
        }
        try writeFrame(
            .entryHeader, EntryHeaderCoding.encode(metadata, version: formatVersion, checked: checksEntryPaths))
        openEntry = OpenEntry(metadata: metadata)
        entryHasher = SHA256Hasher()
        entryCount += 1
    }

    /// Appends content to the open file or records entry.
    public func writeContent(_ bytes: UnsafeRawBufferPointer) throws {
        try checkWritable()
        guard let open = openEntry else { throw PayloadError.invalidState("content written outside an entry") }
        let entry = open.metadata
        guard entry.carriesContent else {
            throw PayloadError.invalidEntry(path: entry.path.description, reason: "a \(entry.kind) has no content")
        }
        guard !bytes.isEmpty, let base = bytes.baseAddress else { return }
        let total = open.written + UInt64(bytes.count)
        if entry.hasExactSize, total > entry.size {
            throw PayloadError.contentSizeMismatch(path: entry.path.description, declared: entry.size, actual: total)
        }
        entryHasher.update(bytes)
        openEntry?.written = total

        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, contentFrame.count - frameFill)
            contentFrame.withUnsafeMutableBytes { destination in
                destination.baseAddress!.advanced(by: frameFill)
                    .copyMemory(from: base.advanced(by: offset), byteCount: take)
            }
            frameFill += take
            offset += take
            if frameFill == contentFrame.count { try flushContentFrame() }
        }
    }

    public func writeContent(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeContent($0) }
    }

    /// Closes the open entry and returns its content's SHA-256. An entry that is not
    /// streamed must have received exactly its declared size.
    @discardableResult
    public func endEntry() throws -> [UInt8] {
        try checkWritable()
        guard let open = openEntry else { throw PayloadError.invalidState("endEntry without an open entry") }
        if open.metadata.hasExactSize, open.written != open.metadata.size {
            throw PayloadError.contentSizeMismatch(
                path: open.metadata.path.description, declared: open.metadata.size,
                actual: open.written)
        }
        try flushContentFrame()
        let digest = takeEntryHasher().finalize()
        var body = FrameBodyEncoder()
        body.append(open.written)
        body.append(raw: digest)
        try writeFrame(.entryEnd, body.bytes)
        contentBytes += open.written
        openEntry = nil
        return digest
    }

    /// Writes the end frame. No entry may be open.
    public func finish() throws -> PayloadSummary {
        try checkWritable()
        if let open = openEntry {
            throw PayloadError.invalidState("finish while '\(open.metadata.path)' is still open")
        }
        let summary = PayloadSummary(
            entryCount: entryCount, contentBytes: contentBytes,
            sha256: payloadHasher.finalize())
        var body = FrameBodyEncoder()
        body.append(summary.entryCount)
        body.append(summary.contentBytes)
        body.append(raw: summary.sha256)
        try writeFrame(.end, body.bytes)
        finished = true
        return summary
    }

    private func checkWritable() throws {
        if finished { throw PayloadError.invalidState("the payload is already finished") }
    }

    private func flushContentFrame() throws {
        guard frameFill > 0 else { return }
        let fill = frameFill
        frameFill = 0
        try contentFrame.withUnsafeBytes { try writeFrame(.content, UnsafeRawBufferPointer(rebasing: $0[0..<fill])) }
    }

    private func writeFrame(_ type: FrameType, _ body: [UInt8]) throws {
        try body.withUnsafeBytes { try writeFrame(type, $0) }
    }

    private func writeFrame(_ type: FrameType, _ body: UnsafeRawBufferPointer) throws {
        let header = type.frameHeader(bodyLength: body.count)
        payloadHasher.updatePayloadDigest(type, header: header, body: body)
        try sink.write(header)
        try sink.write(body)
    }

    /// Hands over the entry hasher, leaving a fresh one, so that finalizing it does
    /// not have to copy a shared digest context.
    private func takeEntryHasher() -> SHA256Hasher {
        defer { entryHasher = SHA256Hasher() }
        return entryHasher
    }
}
