import DBSCompression
import DBSSecurity

/// How payload chunks are compressed: a format field.
public enum ChunkCompression: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Every chunk stored as is.
    case none
    /// zstd at `level`; a chunk that does not shrink by 2% is still stored raw.
    case zstd(level: Int32)

    public var description: String {
        switch self {
        case .none: "none"
        case .zstd(let level): "zstd-\(level)"
        }
    }
}

/// What every reader needs before it can do anything with a backup: who it is
/// (backup id), how it was cut (stripe shape, checksum, chunk size), and how to get
/// its key (salt, Argon2id parameters, wrapped data key). 128 bytes; stored in every
/// head and replicated in every stripe header, so that a backup whose three heads are
/// all destroyed still restores.
package struct BackupDescriptor: Sendable, Equatable {
    static let serializedSize = 128
    /// The wrapped key's place in the serialized form; zeroed in the key's own
    /// associated data (`wrapAssociatedData`).
    static let wrappedKeyRange = 52..<112

    package var backupID: [UInt8]
    /// Unix time, seconds.
    package var created: Int64
    package var salt: [UInt8]
    package var kdf: KDFParameters
    /// The data key, wrapped by the passphrase's key (60 bytes: nonce, ciphertext, tag).
    package var wrappedKey: [UInt8]
    package var chunkSize: Int
    package var compression: ChunkCompression
    package var checksum: ChecksumAlgorithm
    package var copies: Int
    package var dataShards: Int
    package var parityShards: Int
    package var shardSize: Int

    package init(
        backupID: [UInt8], created: Int64, salt: [UInt8], kdf: KDFParameters, wrappedKey: [UInt8],
        chunkSize: Int, compression: ChunkCompression, checksum: ChecksumAlgorithm, copies: Int,
        dataShards: Int, parityShards: Int, shardSize: Int
    ) {
        self.backupID = backupID
        self.created = created
        self.salt = salt
        self.kdf = kdf
        self.wrappedKey = wrappedKey
        self.chunkSize = chunkSize
        self.compression = compression
        self.checksum = checksum
        self.copies = copies
        self.dataShards = dataShards
        self.parityShards = parityShards
        self.shardSize = shardSize
    }

    /// The bounds a reader enforces on a descriptor it cannot yet authenticate.
    /// Shards up to 64 KiB keep a stripe (255 shards) at most 16 MiB, so what a hostile
    /// descriptor can make a reader allocate stays small; chunks up to 16 MiB likewise.
    package static let shardSizeLimits = 16...(64 << 10)
    package static let chunkSizeLimits = 1...(16 << 20)

    /// The layout of a container with this shape and `stripeCount` stripes.
    package func layout(stripeCount: UInt64) -> ContainerLayout {
        ContainerLayout(
            dataShards: dataShards, parityShards: parityShards, shardSize: shardSize,
            copies: copies, stripeCount: stripeCount)
    }

    /// The 128 bytes of docs/FORMAT.md, "Descriptor".
    var serialized: [UInt8] {
        var w = LittleEndianWriter(capacity: Self.serializedSize)
        w.append(backupID)
        w.append(created)
        w.append(salt)
        w.append(kdf.timeCost)
        w.append(kdf.memoryKiB)
        w.append(kdf.parallelism)
        w.append(wrappedKey)
        w.append(UInt32(chunkSize))
        switch compression {
        case .none:
            w.append(UInt8(0))
            w.append(Int8(0))
        case .zstd(let level):
            w.append(UInt8(1))
            w.append(Int8(clamping: level))
        }
        w.append(UInt8(checksum.rawValue))
        w.append(UInt8(copies))
        w.append(UInt16(dataShards))
        w.append(UInt16(parityShards))
        w.append(UInt32(shardSize))
        precondition(w.bytes.count == Self.serializedSize)
        return w.bytes
    }

    /// What the data key's wrap authenticates: the serialized descriptor with the
    /// wrapped-key field zeroed, after a domain label. A head whose parameters were
    /// changed no longer opens the key.
    package var wrapAssociatedData: [UInt8] {
        var bytes = serialized
        for i in Self.wrappedKeyRange { bytes[i] = 0 }
        return Array("DBS descriptor v1".utf8) + bytes
    }

    /// Parses and bounds-checks a descriptor; the error names the bad field.
    init(parsing reader: inout LittleEndianReader) throws(FormatError) {
        do {
            backupID = try reader.read(count: 16)
            created = try reader.read()
            salt = try reader.read(count: 16)
            kdf = KDFParameters(
                timeCost: try reader.read(), memoryKiB: try reader.read(),
                parallelism: try reader.read())
            wrappedKey = try reader.read(count: 60)
            chunkSize = Int(try reader.read(UInt32.self))
            let compressionCode: UInt8 = try reader.read()
            let level: Int8 = try reader.read()
            switch compressionCode {
            case 0:
                guard level == 0 else { throw FormatError.invalidField("zstd level \(level) without compression") }
                compression = .none
            case 1:
                guard ChunkCompressor.formatLevels.contains(Int32(level)) else {
                    throw FormatError.invalidField("zstd level \(level)")
                }
                compression = .zstd(level: Int32(level))
            default: throw FormatError.invalidField("compression code \(compressionCode)")
            }
            let checksumCode: UInt8 = try reader.read()
            guard let algorithm = ChecksumAlgorithm(rawValue: .init(checksumCode)) else {
                throw FormatError.invalidField("checksum algorithm \(checksumCode)")
            }
            checksum = algorithm
            copies = Int(try reader.read(UInt8.self))
            dataShards = Int(try reader.read(UInt16.self))
            parityShards = Int(try reader.read(UInt16.self))
            shardSize = Int(try reader.read(UInt32.self))
        } catch let error as FormatError {
            throw error
        } catch {
            throw .truncated("descriptor")
        }
        guard copies == 1 || copies == 2 else { throw .invalidField("copies \(copies)") }
        guard dataShards >= 1, parityShards >= 1, dataShards + parityShards <= 255 else {
            throw .invalidField("stripe shape \(dataShards) data + \(parityShards) parity shards")
        }
        guard Self.shardSizeLimits.contains(shardSize) else { throw .invalidField("shard size \(shardSize)") }
        guard Self.chunkSizeLimits.contains(chunkSize) else { throw .invalidField("chunk size \(chunkSize)") }
    }
}

/// Why bytes that should be container metadata are not.
package enum FormatError: Error, Equatable {
    case truncated(String)
    case invalidField(String)
    case unsupportedVersion(UInt16)
}
