/// What went wrong writing or reading a payload. Every case names the value or
/// path at fault, so a message alone is enough to act on.
public enum PayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stream does not start with a payload header frame.
    case notAPayload
    /// The payload format version is not one this code reads.
    case unsupportedVersion(found: UInt16, supported: UInt16)
    /// A frame of a known type carries a version this code does not read.
    case unsupportedFrameVersion(frameType: UInt8, version: UInt8)
    /// A frame type this code does not know.
    case unknownFrameType(UInt8)
    /// A frame declares a body longer than its type allows.
    case frameTooLarge(frameType: UInt8, length: UInt64, limit: Int)
    /// A frame's body, or the order of frames, breaks the format.
    case malformedFrame(String)
    /// The stream ended before the end frame.
    case unexpectedEnd
    /// An entry's content does not hash to the SHA-256 its entry-end frame records.
    case contentHashMismatch(path: String)
    /// An entry's content is not as long as declared.
    case contentSizeMismatch(path: String, declared: UInt64, actual: UInt64)
    /// The whole payload does not hash to the SHA-256 its end frame records.
    case payloadHashMismatch
    /// The end frame's entry count or byte total disagrees with what was read.
    case summaryMismatch(String)
    /// An entry a writer was given, or a reader found, breaks the entry rules.
    case invalidEntry(path: String, reason: String)
    /// Metadata that cannot be written (a reserved key, too large).
    case invalidMetadata(String)
    /// A call out of order (content outside an entry, finish with an entry open...).
    case invalidState(String)

    public var description: String {
        switch self {
        case .notAPayload:
            "not a DBS payload: the header frame is missing"
        case let .unsupportedVersion(found, supported):
            "payload format version \(found) is not supported (this build reads version \(supported))"
        case let .unsupportedFrameVersion(type, version):
            "frame type 0x\(String(type, radix: 16)) has unsupported version \(version)"
        case let .unknownFrameType(type):
            "unknown payload frame type 0x\(String(type, radix: 16))"
        case let .frameTooLarge(type, length, limit):
            "payload frame type 0x\(String(type, radix: 16)) declares \(length) bytes, more than its limit of \(limit)"
        case let .malformedFrame(reason):
            "malformed payload: \(reason)"
        case .unexpectedEnd:
            "the payload ends before its end frame (truncated)"
        case let .contentHashMismatch(path):
            "content of '\(path)' does not match its SHA-256"
        case let .contentSizeMismatch(path, declared, actual):
            "content of '\(path)' is \(actual) bytes, declared \(declared)"
        case .payloadHashMismatch:
            "the payload does not match the SHA-256 in its end frame"
        case let .summaryMismatch(reason):
            "the payload's end frame disagrees with its entries: \(reason)"
        case let .invalidEntry(path, reason):
            "invalid entry '\(path)': \(reason)"
        case let .invalidMetadata(reason):
            "invalid payload metadata: \(reason)"
        case let .invalidState(reason):
            "payload used out of order: \(reason)"
        }
    }
}
