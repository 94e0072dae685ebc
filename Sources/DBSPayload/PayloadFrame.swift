import DBSSecurity
import DBSSystem

// The payload's framing, byte for byte (docs/PAYLOAD.md says the same for a reader
// written outside this code base).
//
// A payload is a sequence of frames. Every frame is
//
//     offset  size  field
//     0       1     type
//     1       1     frame version: 1 for every type below
//     2       4     body length n, unsigned little-endian, at most the type's limit
//     6       n     body
//
// All integers are little-endian; strings are UTF-8, length-prefixed, not terminated.
// The frames come in this order, and in no other:
//
//     header, metadata, (entry-header, chunk*, entry-end)*, end
//
// | type | name         | body                                                        | n           |
// |------|--------------|-------------------------------------------------------------|-------------|
// | 0x01 | header       | "DBSPAYLD" (8 bytes), u16 payload format version (1)        | exactly 10  |
// | 0x02 | metadata     | a JSON object whose values are all strings                  | <= 1 MiB    |
// | 0x10 | entry-header | see below                                                   | <= 341813   |
// | 0x11 | chunk        | content bytes of the open entry                             | 1...1 MiB   |
// | 0x12 | entry-end    | u64 content size, 32-byte SHA-256 of the content            | exactly 40  |
// | 0x7F | end          | u64 entry count, u64 total content bytes, 32-byte SHA-256   | exactly 48  |
//
// Entry-header body:
//
//     u8   kind: 1 file, 2 directory, 3 symlink, 4 records
//     u32  mode: permission bits and setuid/setgid/sticky (mode & 0o7777)
//     i64  modification time, seconds since 1970-01-01 UTC
//     u32  modification time, nanoseconds (< 1_000_000_000)
//     u64  size: the exact content size; 0 for a directory, a symlink, or a
//          streamed entry
//     u8   flags: bit 0 link target, bit 1 model label, bit 2 extra, bit 3 streamed
//          (file or records whose size was unknown when it began: the entry-end
//          frame gives it); version 2 adds bit 4 owner, bit 5 device, bit 6
//          attributes, bit 7 byte names (path and link target are any bytes, not
//          necessarily UTF-8; set only when one is not UTF-8); other bits 0
//     u16  path length (1...4096), path: relative, '/'-separated
//     if bit 0: u16 length (1...4096), link target (exactly for symlinks)
//     if bit 1: u16 length (1...255), model label (exactly for records)
//     if bit 2: u32 length (<= 64 KiB), extra: a JSON object of string values
//     version 2 only (kinds 5 hard link, 6 FIFO, 7 char device, 8 block device):
//     if bit 4: u32 uid, u32 gid, u8 length (0...255) + user name, u8 length + group name
//     if bit 5: u32 device major, u32 device minor (exactly for devices)
//     if bit 6: u16 count (1...1024), per attribute u8 length + name, u32 length
//          (<= 64 KiB) + value; names strictly increasing, names + values <= 256 KiB
//
// Only file and records entries carry chunks. The entry-end frame repeats the
// content size and gives its SHA-256 (of the empty string for an entry without
// content). The end frame's SHA-256, the payload digest, is taken over every byte
// before the end frame except chunk bodies: every frame header (chunk headers
// included) and every other body, in stream order. Chunk bodies are committed
// through their entry's SHA-256 in the entry-end frame, which the digest covers, so
// the digest still commits to the whole plaintext while each content byte is hashed
// once, not twice (`openssl speed -evp sha256`: 1.75 GB/s here, so a second pass
// would cost about 0.57 ns per byte on the payload thread, on backup and restore). The end
// frame's total is the sum of every entry's content size. Nothing follows the end
// frame.
//
// A reader rejects an unknown frame type, an unknown frame version, a length over
// the type's limit, an unknown kind or flag and any frame out of order.

/// The numbers and limits of payload format version 2 (and 1, which it extends).
public enum PayloadFormat {
    /// The first eight bytes of the header frame's body.
    package static let magic: [UInt8] = Array("DBSPAYLD".utf8)
    /// The payload format version this code writes (it reads 1 and 2).
    public static let version: UInt16 = 2
    /// The versions this code reads.
    package static let readableVersions: ClosedRange<UInt16> = 1...2
    /// The version of every frame type this code writes and reads.
    static let frameVersion: UInt8 = 1
    /// Type, version, body length.
    static let frameHeaderSize = 6

    /// The largest content frame's body: the reader's content buffer, so what bounds its memory.
    package static let maxContentFrameSize = 1 << 20
    public static let maxPathBytes = 4096
    package static let maxLinkTargetBytes = 4096
    package static let maxModelLabelBytes = 255
    package static let maxMetadataBytes = 1 << 20
    package static let maxExtraBytes = 64 << 10
    package static let maxOwnerNameBytes = 255
    package static let maxExtendedAttributes = 1024
    package static let maxAttributeNameBytes = 255
    package static let maxAttributeValueBytes = 64 << 10
    /// The sum of every attribute's name and value bytes in one entry.
    package static let maxAttributeTotalBytes = 256 << 10
    static let digestSize = 32

    /// The version of the tool that writes a payload, recorded in its metadata.
    package static let toolVersion = DBSKitVersion.string
}

/// The frame types of payload format versions 1 and 2.
enum FrameType: UInt8, CustomStringConvertible {
    case header = 0x01
    case metadata = 0x02
    case entryHeader = 0x10
    /// One entry's content, 1 byte to `PayloadFormat.maxContentFrameSize`; "chunk" on
    /// the wire (docs/PAYLOAD.md) and in messages.
    case content = 0x11
    case entryEnd = 0x12
    case end = 0x7F

    /// Checked before a body is read, so no length in a hostile stream can make
    /// the reader allocate more than this.
    var bodyLengthLimit: Int {
        switch self {
        case .header: 10
        case .metadata: PayloadFormat.maxMetadataBytes
        case .entryHeader:
            1 + 4 + 8 + 4 + 8 + 1 + 2 + PayloadFormat.maxPathBytes
                + 2 + PayloadFormat.maxLinkTargetBytes + 2 + PayloadFormat.maxModelLabelBytes
                + 4 + PayloadFormat.maxExtraBytes
                // Version 2: owner, device, attributes (count, and per attribute its
                // two length fields, beside the total of names and values).
                + 8 + 2 * (1 + PayloadFormat.maxOwnerNameBytes) + 8
                + 2 + PayloadFormat.maxExtendedAttributes * (1 + 4) + PayloadFormat.maxAttributeTotalBytes
        case .content: PayloadFormat.maxContentFrameSize
        case .entryEnd: 8 + PayloadFormat.digestSize
        case .end: 8 + 8 + PayloadFormat.digestSize
        }
    }

    var description: String {
        switch self {
        case .header: "header"
        case .metadata: "metadata"
        case .entryHeader: "entry-header"
        case .content: "chunk"
        case .entryEnd: "entry-end"
        case .end: "end"
        }
    }

    /// The six bytes that open a frame of this type with a body of `length` bytes.
    func frameHeader(bodyLength length: Int) -> [UInt8] {
        var encoder = FrameBodyEncoder()
        encoder.append(rawValue)
        encoder.append(PayloadFormat.frameVersion)
        encoder.append(UInt32(length))
        return encoder.bytes
    }
}

extension SHA256Hasher {
    /// Adds a frame to the payload digest as the format defines it: the end frame
    /// not at all, a content frame by its header only, any other frame whole.
    mutating func updatePayloadDigest(_ type: FrameType, header: [UInt8], body: UnsafeRawBufferPointer) {
        guard type != .end else { return }
        update(header)
        if type != .content { update(body) }
    }
}

/// Builds a frame body: little-endian integers and length-prefixed strings.
struct FrameBodyEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ value: UInt8) { bytes.append(value) }
    mutating func append(_ value: UInt16) { appendLittleEndian(value) }
    mutating func append(_ value: UInt32) { appendLittleEndian(value) }
    mutating func append(_ value: UInt64) { appendLittleEndian(value) }
    mutating func append(_ value: Int64) { appendLittleEndian(UInt64(bitPattern: value)) }
    mutating func append(raw: [UInt8]) { bytes.append(contentsOf: raw) }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }
}

/// Reads a frame body written by `FrameBodyEncoder`. Every read is bounds-checked
/// and throws `PayloadError.malformedFrame` naming the frame and field that ran short.
struct FrameBodyDecoder {
    private let bytes: [UInt8]
    private var offset = 0
    private let frame: FrameType

    init(_ bytes: [UInt8], frame: FrameType) {
        self.bytes = bytes
        self.frame = frame
    }

    mutating func uint8(_ field: String) throws(PayloadError) -> UInt8 {
        let slice = try take(1, field)
        return slice[slice.startIndex]
    }

    mutating func uint16(_ field: String) throws(PayloadError) -> UInt16 { try littleEndian(field) }
    mutating func uint32(_ field: String) throws(PayloadError) -> UInt32 { try littleEndian(field) }
    mutating func uint64(_ field: String) throws(PayloadError) -> UInt64 { try littleEndian(field) }
    mutating func int64(_ field: String) throws(PayloadError) -> Int64 {
        Int64(bitPattern: try littleEndian(field))
    }

    mutating func raw(_ count: Int, _ field: String) throws(PayloadError) -> [UInt8] {
        Array(try take(count, field))
    }

    /// A UTF-8 string of `count` bytes; invalid UTF-8 is a malformed frame.
    mutating func string(_ count: Int, _ field: String) throws(PayloadError) -> String {
        let slice = try take(count, field)
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw .malformedFrame("\(frame) frame: \(field) is not valid UTF-8")
        }
        return string
    }

    /// A path or link target of `count` bytes: UTF-8 unless `anyBytes` (entry-header
    /// flag bit 7), then any bytes.
    mutating func name(_ count: Int, _ field: String, anyBytes: Bool) throws(PayloadError) -> PathBytes {
        if anyBytes { return PathBytes(bytes: try take(count, field)) }
        return PathBytes(try string(count, field))
    }

    /// Every byte of the body must have been read.
    func finish() throws(PayloadError) {
        guard offset == bytes.count else {
            throw .malformedFrame("\(frame) frame: \(bytes.count - offset) unexpected trailing bytes")
        }
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_ field: String) throws(PayloadError) -> T {
        let slice = try take(MemoryLayout<T>.size, field)
        var value: T = 0
        for (shift, byte) in slice.enumerated() { value |= T(byte) << (shift * 8) }
        return value
    }

    private mutating func take(_ count: Int, _ field: String) throws(PayloadError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw .malformedFrame("\(frame) frame: too short for its \(field)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
}
