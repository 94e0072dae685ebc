import DBSIO
import DBSSecurity

/// Reads a payload (PayloadFrame.swift) from a byte source, verifying as it goes:
/// each entry's SHA-256 when its entry-end frame arrives, the payload digest, entry
/// count and byte total at the end frame.
///
/// Safe on arbitrary bytes: every frame length is checked against its type's limit
/// before anything is allocated, so memory stays under about one chunk plus one
/// metadata document, and every frame consumes input, so it cannot loop.
///
///     let reader = try PayloadReader(source: source)
///     while let entry = try reader.nextEntry() {
///         while case let bytes = try reader.readContent(maxLength: 1 << 20), !bytes.isEmpty { ... }
///     }
///
/// Content is only trustworthy once `readContent` has returned `[]` (the entry's hash
/// checked out); a consumer writes it to a temporary place until then. After an
/// error every call rethrows it.
public final class PayloadReader {
    /// The metadata document: the host's key/values plus `created`, `tool_version`
    /// and `payload_version`.
    public let metadata: [String: String]
    /// The payload format version in the header frame (1 or 2).
    public let formatVersion: UInt16
    /// The end frame's summary, once `nextEntry()` has returned nil.
    public private(set) var summary: PayloadSummary?
    /// The SHA-256 of the last entry whose content has been read to its end.
    public private(set) var lastEntryDigest: [UInt8]?
    /// The content size of that entry.
    public private(set) var lastEntrySize: UInt64?

    private let source: any ByteSource
    private var payloadHasher = SHA256Hasher()
    private var entryCount: UInt64 = 0
    private var contentBytes: UInt64 = 0
    private var state = State.betweenEntries
    private var failure: PayloadError?
    /// The open entry's content so far: its hash, its length, and the last content frame,
    /// of which `contentFrame[frameOffset...]` is not handed out yet.
    private var entryHasher = SHA256Hasher()
    private var entryRead: UInt64 = 0
    private var contentFrame: [UInt8] = []
    private var frameOffset = 0

    private enum State {
        case betweenEntries
        /// Reading the content of this entry.
        case inContent(EntryMetadata)
        /// The entry's content was read and verified; the next call is `nextEntry()`.
        case contentEnded
        case finished
    }

    /// Reads and checks the header frame and the metadata document.
    package init(source: any ByteSource) throws {
        self.source = source
        var hasher = SHA256Hasher()
        let headerFrame = try Self.readFrame(from: source, hasher: &hasher)
        guard headerFrame.type == .header else { throw PayloadError.notAPayload }
        var header = FrameBodyDecoder(headerFrame.body, frame: .header)
        guard try header.raw(PayloadFormat.magic.count, "magic") == PayloadFormat.magic else {
            throw PayloadError.notAPayload
        }
        let version = try header.uint16("version")
        guard PayloadFormat.readableVersions.contains(version) else {
            throw PayloadError.unsupportedVersion(found: version, supported: PayloadFormat.version)
        }
        formatVersion = version
        try header.finish()
        let metadataFrame = try Self.readFrame(from: source, hasher: &hasher)
        guard metadataFrame.type == .metadata else {
            throw PayloadError.malformedFrame("expected the metadata frame, found a \(metadataFrame.type) frame")
        }
        metadata = try StringMapJSON.decode(metadataFrame.body, what: "the metadata document")
        payloadHasher = hasher
    }

    /// The next entry, or nil after the end frame has been read and verified. Content
    /// of the previous entry that was not read is skipped (and still verified).
    public func nextEntry() throws -> EntryMetadata? {
        try guarded {
            switch state {
            case .finished: return nil
            case .inContent: try skipRemainingContent()
            case .betweenEntries, .contentEnded: break
            }
            let frame = try Self.readFrame(from: source, hasher: &payloadHasher)
            switch frame.type {
            case .entryHeader:
                let entry = try EntryHeaderCoding.decode(frame.body, version: formatVersion)
                entryCount += 1
                lastEntryDigest = nil
                lastEntrySize = nil
                state = .inContent(entry)
                entryHasher = SHA256Hasher()
                entryRead = 0
                contentFrame = []
                frameOffset = 0
                return entry
            case .end:
                try finishPayload(frame.body)
                return nil
            default:
                throw PayloadError.malformedFrame("expected an entry or the end, found a \(frame.type) frame")
            }
        }
    }

    /// Up to `maxLength` bytes of the current entry's content; `[]` once it is all
    /// read and its SHA-256 and size have been verified (and for entries without
    /// content). Throws `contentHashMismatch` when the content does not verify.
    public func readContent(maxLength: Int) throws -> [UInt8] {
        try guarded {
            while case .inContent(let entry) = state {
                if frameOffset < contentFrame.count {
                    let count = min(max(maxLength, 1), contentFrame.count - frameOffset)
                    defer { frameOffset += count }
                    return Array(contentFrame[frameOffset..<(frameOffset + count)])
                }
                try advanceContent(entry)
            }
            return []
        }
    }

    /// Reads the rest of the current entry's content without handing it out; it is
    /// still verified.
    public func skipContent() throws {
        try guarded { try skipRemainingContent() }
    }

    private func skipRemainingContent() throws {
        while case .inContent(let entry) = state {
            try advanceContent(entry)
        }
    }

    /// Reads the next frame of the current entry: a chunk (hashed, buffered) or its
    /// entry-end frame (verified).
    private func advanceContent(_ entry: EntryMetadata) throws {
        let read = entryRead
        let frame = try Self.readFrame(from: source, hasher: &payloadHasher)
        switch frame.type {
        case .content:
            guard entry.carriesContent else {
                throw PayloadError.malformedFrame("content for '\(entry.path)', a \(entry.kind)")
            }
            guard !frame.body.isEmpty else { throw PayloadError.malformedFrame("empty chunk in '\(entry.path)'") }
            let total = read + UInt64(frame.body.count)
            if entry.hasExactSize, total > entry.size {
                throw PayloadError.contentSizeMismatch(
                    path: entry.path.description, declared: entry.size, actual: total)
            }
            entryHasher.update(frame.body)
            entryRead = total
            contentFrame = frame.body
            frameOffset = 0
        case .entryEnd:
            var decoder = FrameBodyDecoder(frame.body, frame: .entryEnd)
            let recordedSize = try decoder.uint64("size")
            let recordedDigest = try decoder.raw(PayloadFormat.digestSize, "SHA-256")
            try decoder.finish()
            if recordedSize != read || (entry.hasExactSize && read != entry.size) {
                let declared = entry.hasExactSize ? entry.size : recordedSize
                throw PayloadError.contentSizeMismatch(path: entry.path.description, declared: declared, actual: read)
            }
            let digest = takeEntryHasher().finalize()
            contentFrame = []
            guard digest == recordedDigest else { throw PayloadError.contentHashMismatch(path: entry.path.description) }
            contentBytes += read
            lastEntryDigest = digest
            lastEntrySize = read
            state = .contentEnded
        default:
            throw PayloadError.malformedFrame(
                "expected content or the end of '\(entry.path)', found a \(frame.type) frame")
        }
    }

    private func finishPayload(_ body: [UInt8]) throws {
        var decoder = FrameBodyDecoder(body, frame: .end)
        let count = try decoder.uint64("entry count")
        let bytes = try decoder.uint64("content bytes")
        let digest = try decoder.raw(PayloadFormat.digestSize, "SHA-256")
        try decoder.finish()
        guard payloadHasher.finalize() == digest else { throw PayloadError.payloadHashMismatch }
        guard count == entryCount else {
            throw PayloadError.summaryMismatch("it counts \(count) entries, the payload holds \(entryCount)")
        }
        guard bytes == contentBytes else {
            throw PayloadError.summaryMismatch("it counts \(bytes) content bytes, the payload holds \(contentBytes)")
        }
        var probe: [UInt8] = []
        guard try source.read(into: &probe, maxLength: 1) == 0 else {
            throw PayloadError.malformedFrame("bytes follow the end frame")
        }
        summary = PayloadSummary(entryCount: count, contentBytes: bytes, sha256: digest)
        state = .finished
    }

    /// Runs `body`; after the first payload error the reader is poisoned and repeats it.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        if let failure { throw failure }
        do {
            return try body()
        } catch let error as PayloadError {
            failure = error
            throw error
        }
    }

    /// One whole frame. Its length is checked against its type's limit before the
    /// body is read; the frame is added to the payload digest `hasher`.
    private static func readFrame(
        from source: any ByteSource,
        hasher: inout SHA256Hasher
    ) throws -> (type: FrameType, body: [UInt8]) {
        let header = try source.read(upTo: PayloadFormat.frameHeaderSize)
        guard header.count == PayloadFormat.frameHeaderSize else { throw PayloadError.unexpectedEnd }
        guard let type = FrameType(rawValue: header[0]) else { throw PayloadError.unknownFrameType(header[0]) }
        guard header[1] == PayloadFormat.frameVersion else {
            throw PayloadError.unsupportedFrameVersion(frameType: header[0], version: header[1])
        }
        var decoder = FrameBodyDecoder(Array(header[2...]), frame: type)
        let length = try decoder.uint32("length")
        guard length <= type.bodyLengthLimit else {
            throw PayloadError.frameTooLarge(
                frameType: type.rawValue, length: UInt64(length), limit: type.bodyLengthLimit)
        }
        let body = try source.read(upTo: Int(length))
        guard body.count == Int(length) else { throw PayloadError.unexpectedEnd }
        body.withUnsafeBytes { hasher.updatePayloadDigest(type, header: header, body: $0) }
        return (type, body)
    }

    /// Hands over the entry hasher, leaving a fresh one, so that finalizing it does
    /// not have to copy a shared digest context.
    private func takeEntryHasher() -> SHA256Hasher {
        defer { entryHasher = SHA256Hasher() }
        return entryHasher
    }
}
