/// Why a Reed-Solomon operation refused its input. Every case names the values that
/// were wrong, so a caller (or a user reading a log) can tell what was asked for.
public enum ReedSolomonError: Error, Equatable, CustomStringConvertible {
    /// The shape is not a code over GF(2^8): it needs k >= 1, m >= 1 and k + m <= 255.
    case invalidShape(dataShards: Int, parityShards: Int)
    /// A shard must hold at least one byte.
    case invalidShardLength(Int)
    /// The buffer does not hold a whole number of stripes of the code's shape.
    case bufferSizeMismatch(expected: Int, actual: Int)
    /// A shard index outside `0..<totalShards`.
    case invalidShardIndex(Int, totalShards: Int)
    /// A column (byte offset within the shards) outside `0..<shardLength`.
    case invalidColumn(Int, shardLength: Int)
    /// More whole shards were erased than the code has parity shards.
    case tooManyErasures(erased: Int, parityShards: Int)
    /// The same shard was listed twice as erased.
    case duplicateShardIndex(Int)
    /// The backend was asked for but is not built into this binary or not usable here.
    case backendUnavailable(RSBackendKind)
    /// `DBS_RS_BACKEND` names no backend (it takes `isal`, `simd` or `scalar`).
    case unknownBackend(String)
    /// A parallel operation needs at least one thread.
    case invalidThreadCount(Int)

    public var description: String {
        switch self {
        case let .invalidShape(k, m):
            "invalid Reed-Solomon shape: \(k) data + \(m) parity shards (need k >= 1, m >= 1, k + m <= 255)"
        case let .invalidShardLength(length):
            "invalid shard length \(length) (need at least 1 byte)"
        case let .bufferSizeMismatch(expected, actual):
            "buffer holds \(actual) bytes, expected \(expected)"
        case let .invalidShardIndex(index, total):
            "shard index \(index) is outside 0..<\(total)"
        case let .invalidColumn(column, length):
            "column \(column) is outside 0..<\(length)"
        case let .tooManyErasures(erased, parity):
            "\(erased) shards erased, at most \(parity) can be rebuilt"
        case let .duplicateShardIndex(index):
            "shard index \(index) listed twice"
        case let .backendUnavailable(kind):
            "Reed-Solomon backend '\(kind.rawValue)' is not available in this build or on this machine"
        case let .unknownBackend(name):
            "DBS_RS_BACKEND='\(name)' names no Reed-Solomon backend (isal, simd or scalar)"
        case let .invalidThreadCount(count):
            "invalid thread count \(count) (need at least 1)"
        }
    }
}
