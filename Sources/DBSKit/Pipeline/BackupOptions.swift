import DBSCompression
import DBSIntegrity
import DBSSecurity
import DBSSystem
import Dispatch

/// How a backup is written. Every value is stored in the file, so a reader needs none
/// of them.
public struct BackupOptions: Sendable, Equatable {
    /// Worker threads for compression, sealing, Reed-Solomon and checksums.
    public var threads: Int
    /// 2 (copy A and copy B) or 1.
    public var copies: Int
    public var dataShards: Int
    public var parityShards: Int
    /// Bytes per shard; 4096 makes a shard one disk sector.
    public var shardSize: Int
    public var checksum: ChecksumAlgorithm
    public var compression: ChunkCompression
    public var kdf: KDFParameters
    /// Read the finished file back and check it end to end before renaming it into place.
    public var verifyAfterWrite: Bool
    /// Plaintext bytes per sealed chunk.
    public var chunkSize: Int
    /// Replace an existing destination (otherwise refused).
    public var overwrite: Bool

    public init(
        threads: Int = BackupOptions.coreCount, copies: Int = 2, dataShards: Int = 239,
        parityShards: Int = 16, shardSize: Int = 4096, checksum: ChecksumAlgorithm = .xxh3_128,
        compression: ChunkCompression = .zstd(level: 1), kdf: KDFParameters = .default,
        verifyAfterWrite: Bool = true, chunkSize: Int = 1 << 20, overwrite: Bool = false
    ) {
        self.threads = threads
        self.copies = copies
        self.dataShards = dataShards
        self.parityShards = parityShards
        self.shardSize = shardSize
        self.checksum = checksum
        self.compression = compression
        self.kdf = kdf
        self.verifyAfterWrite = verifyAfterWrite
        self.chunkSize = chunkSize
        self.overwrite = overwrite
    }

    /// The thread counts the pipeline accepts. Memory grows with the width (a couple of
    /// stripes and chunks per thread), so the readers clamp to it rather than trust it.
    public static let threadLimits = 1...256

    /// The zstd levels the writer accepts (zstd's negative "fast" levels down to -7):
    /// the compression layer's `ChunkCompressor.formatLevels`.
    public static let zstdLevels: ClosedRange<Int32> = ChunkCompressor.formatLevels
    /// Bytes per shard the format allows.
    public static let shardSizeLimits = BackupDescriptor.shardSizeLimits

    static func clampThreads(_ threads: Int) -> Int {
        min(max(threads, threadLimits.lowerBound), threadLimits.upperBound)
    }

    /// The number of active processors.
    public static var coreCount: Int { max(1, sysconfCores()) }

    /// `self` if every value is usable; otherwise an error naming the bad value.
    public func validated() throws(BackupError) -> BackupOptions {
        guard Self.threadLimits.contains(threads) else {
            throw .invalidOptions("threads \(threads) is outside \(Self.threadLimits)")
        }
        guard copies == 1 || copies == 2 else { throw .invalidOptions("copies \(copies) must be 1 or 2") }
        guard dataShards >= 1, parityShards >= 1, dataShards + parityShards <= 255 else {
            throw .invalidOptions(
                "stripe shape \(dataShards) data + \(parityShards) parity shards (need both >= 1 and a sum <= 255)")
        }
        guard BackupDescriptor.shardSizeLimits.contains(shardSize) else {
            throw .invalidOptions("shard size \(shardSize) is outside \(BackupDescriptor.shardSizeLimits)")
        }
        guard BackupDescriptor.chunkSizeLimits.contains(chunkSize) else {
            throw .invalidOptions("chunk size \(chunkSize) is outside \(BackupDescriptor.chunkSizeLimits)")
        }
        if case .zstd(let level) = compression, !Self.zstdLevels.contains(level) {
            throw .invalidOptions("zstd level \(level) is outside \(Self.zstdLevels)")
        }
        do {
            _ = try kdf.validated()
        } catch {
            // The bound alone: BackupError's description says what it is (it was said twice).
            guard case .kdfParametersOutOfBounds(let why) = error else { throw .invalidOptions(error.description) }
            throw .kdfParametersOutOfBounds(why)
        }
        return self
    }
}

private func sysconfCores() -> Int { ProcessorCount.online }
