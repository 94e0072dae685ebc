/// Why a chunk could not be compressed or decompressed. Every case names the values
/// that did not fit, so a damaged chunk is reported, never trusted.
package enum CompressionError: Error, Equatable, CustomStringConvertible {
    /// The zstd level is outside what the linked libzstd accepts.
    case levelOutOfRange(level: Int32, range: ClosedRange<Int32>)
    /// A declared plaintext length that cannot be: negative, or beyond
    /// `ChunkCompressor.maximumPlaintextLength`.
    case invalidPlaintextLength(Int)
    /// A raw chunk whose length is not its declared plaintext length.
    case rawLengthMismatch(declared: Int, actual: Int)
    /// A zstd frame whose header does not state the declared plaintext length
    /// (`frameContentSize` nil: the header states no size or is unreadable).
    case contentSizeMismatch(declared: Int, frameContentSize: UInt64?)
    /// Bytes that are not exactly one valid zstd frame of the declared length.
    case corruptFrame(String)
    /// libzstd failed while compressing (or could not allocate a context).
    case zstdFailure(String)

    package var description: String {
        switch self {
        case .levelOutOfRange(let level, let range):
            return "zstd level \(level) is outside \(range)"
        case .invalidPlaintextLength(let length):
            return "declared plaintext length \(length) is outside 0...\(ChunkCompressor.maximumPlaintextLength)"
        case .rawLengthMismatch(let declared, let actual):
            return "raw chunk holds \(actual) bytes, its declared length is \(declared)"
        case .contentSizeMismatch(let declared, let frameContentSize):
            let stated = frameContentSize.map { "\($0) bytes" } ?? "no readable size"
            return "zstd frame states \(stated), the declared plaintext length is \(declared)"
        case .corruptFrame(let message):
            return "corrupt zstd chunk: \(message)"
        case .zstdFailure(let message):
            return "zstd failed: \(message)"
        }
    }
}
