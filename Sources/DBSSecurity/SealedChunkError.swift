/// Why a sealed chunk could not be cut, sealed or opened. Each case names the chunk
/// and keeps its cause; the descriptions are what users see (the pipeline wraps them:
/// a stream defect, a corrupted chunk, an internal failure).
package enum SealedChunkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A prefix claims a sealed length no chunk can have.
    case impossibleLength(chunk: UInt64, length: Int)
    /// The sealed chunk would not fit the buffer it was to be sealed into.
    case doesNotFit(chunk: UInt64)
    /// The cipher failed while sealing.
    case sealing(chunk: UInt64, SecurityError)
    /// The chunk's GCM tag did not verify: corruption or tampering.
    case authenticationFailed(chunk: UInt64)
    /// The cipher failed while opening, other than by a tag that did not verify.
    case opening(chunk: UInt64, SecurityError)
    /// The sealed data (authentic) is too short for its inner header, or the header
    /// names no known encoding.
    case invalidInnerHeader(chunk: UInt64)

    package var description: String {
        switch self {
        case let .impossibleLength(index, length): "chunk \(index) has an impossible sealed length \(length)"
        case .doesNotFit(let index): "chunk \(index)'s frame does not fit its batch buffer"
        case let .sealing(index, error): "sealing chunk \(index): \(error)"
        case .authenticationFailed(let index): "chunk \(index) failed authentication"
        case let .opening(index, error): "opening chunk \(index): \(error)"
        case .invalidInnerHeader(let index): "chunk \(index) has an invalid inner header"
        }
    }
}
