// dbs_options: the C face of BackupOptions, with a struct_size for growth.

public import CDBSHeader  // C types in the exported signatures (a non-public @c function is not exported)
import DBSKit

extension dbs_options {
    /// The bytes of the struct this version of the library knows.
    static var knownSize: Int { MemoryLayout<dbs_options>.size }

    /// The bytes of the first version's struct (ABI 1, up to `overwrite`): the least
    /// `struct_size` a caller may pass. A caller compiled against an older dbs.h
    /// passes its own, smaller size; the fields it does not know get their defaults.
    static var firstVersionSize: Int { MemoryLayout<dbs_options>.offset(of: \.max_kdf_memory_kib)! }

    /// The defaults: BackupOptions' own, with threads 0 ("one per core").
    static func defaults(structSize: Int) -> dbs_options {
        let swift = BackupOptions()
        var options = dbs_options()
        options.struct_size = structSize
        options.threads = 0
        options.copies = Int32(swift.copies)
        options.data_shards = Int32(swift.dataShards)
        options.parity_shards = Int32(swift.parityShards)
        options.shard_size = Int32(swift.shardSize)
        options.checksum = Int32(swift.checksum.rawValue)
        switch swift.compression {
        case .none:
            options.compression = Int32(DBS_COMPRESSION_NONE)
            options.compression_level = 0
        case .zstd(let level):
            options.compression = Int32(DBS_COMPRESSION_ZSTD)
            options.compression_level = level
        }
        options.kdf_time_cost = swift.kdf.timeCost
        options.kdf_memory_kib = swift.kdf.memoryKiB
        options.kdf_parallelism = swift.kdf.parallelism
        options.verify = swift.verifyAfterWrite ? 1 : 0
        options.overwrite = swift.overwrite ? 1 : 0
        options.max_kdf_memory_kib = KDFCostCap.default.maximumMemoryKiB
        options.max_kdf_time_cost = KDFCostCap.default.maximumTimeCost
        return options
    }

    /// The engine's options; every value checked, the bad one named.
    func backupOptions() throws(UsageError) -> BackupOptions {
        var swift = BackupOptions()
        swift.threads = try threadCount(threads)
        swift.copies = Int(copies)
        swift.dataShards = Int(data_shards)
        swift.parityShards = Int(parity_shards)
        swift.shardSize = Int(shard_size)
        guard checksum >= 0, checksum <= Int32(UInt8.max), let algorithm = ChecksumAlgorithm(rawValue: UInt8(checksum))
        else {
            throw UsageError("checksum \(checksum) is not a DBS_CHECKSUM_* value")
        }
        swift.checksum = algorithm
        switch compression {
        case Int32(DBS_COMPRESSION_NONE): swift.compression = .none
        case Int32(DBS_COMPRESSION_ZSTD): swift.compression = .zstd(level: compression_level)
        default: throw UsageError("compression \(compression) is not a DBS_COMPRESSION_* value")
        }
        swift.kdf = KDFParameters(timeCost: kdf_time_cost, memoryKiB: kdf_memory_kib, parallelism: kdf_parallelism)
        swift.verifyAfterWrite = verify != 0
        swift.overwrite = overwrite != 0
        do {
            return try swift.validated()
        } catch {
            throw UsageError(error.description)
        }
    }
}

/// What a reading call takes from a `dbs_options` (the backup records its own shape).
struct ReaderSettings {
    var threads: Int
    /// The key-derivation cost accepted before the file can be authenticated.
    var kdfCap: KDFCostCap
    /// A restore replaces existing files.
    var overwrite: Bool
}

/// The reading settings in `pointer` (NULL: the defaults): its thread count,
/// key-derivation cap and overwrite flag.
func readerSettings(_ pointer: UnsafePointer<dbs_options>?) throws(UsageError) -> ReaderSettings {
    let options = try callerOptions(pointer) ?? dbs_options.defaults(structSize: dbs_options.knownSize)
    return ReaderSettings(
        threads: try threadCount(options.threads),
        kdfCap: KDFCostCap(
            maximumMemoryKiB: options.max_kdf_memory_kib,
            maximumTimeCost: options.max_kdf_time_cost),
        overwrite: options.overwrite != 0)
}

/// The caller's struct (nil for NULL): `struct_size` read first, then only the bytes
/// it says are there, over the defaults (an older caller's struct is smaller; a newer
/// caller's extra fields are not this library's to read).
private func callerOptions(_ pointer: UnsafePointer<dbs_options>?) throws(UsageError) -> dbs_options? {
    guard let pointer else { return nil }
    let size = UnsafeRawPointer(pointer).load(as: Int.self)
    guard size >= dbs_options.firstVersionSize else {
        throw UsageError(
            "options->struct_size \(size) is smaller than any version of dbs_options (\(dbs_options.firstVersionSize)): fill it with dbs_options_init"
        )
    }
    var options = dbs_options.defaults(structSize: size)
    withUnsafeMutableBytes(of: &options) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(size, dbs_options.knownSize)))
    }
    return options
}

/// The engine's options from a caller's struct, or the defaults for NULL. Reads
/// `struct_size` first, and the rest only once it is known to be there.
func backupOptions(_ pointer: UnsafePointer<dbs_options>?) throws(UsageError) -> BackupOptions {
    try (callerOptions(pointer) ?? dbs_options.defaults(structSize: dbs_options.knownSize)).backupOptions()
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_options_init")
#endif
public func dbs_options_init(_ options: UnsafeMutablePointer<dbs_options>?, _ structSizeArgument: UInt) -> Int32 {
    cCall {
        guard let options else { throw UsageError("options is NULL") }
        let structSize = try cSize(structSizeArgument, "struct_size")
        guard structSize >= dbs_options.firstVersionSize else {
            throw UsageError(
                "struct_size \(structSize) is smaller than any version of dbs_options (\(dbs_options.firstVersionSize))"
            )
        }
        // Later fields a newer caller knows and this library does not are zeroed; an
        // older caller's struct receives only the fields it has.
        UnsafeMutableRawPointer(options).initializeMemory(as: UInt8.self, repeating: 0, count: structSize)
        var defaults = dbs_options.defaults(structSize: structSize)
        withUnsafeBytes(of: &defaults) { source in
            UnsafeMutableRawPointer(options).copyMemory(
                from: source.baseAddress!,
                byteCount: min(structSize, dbs_options.knownSize))
        }
    }
}
