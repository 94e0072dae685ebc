import DBSKit
import Foundation

/// `dbs inspect`: the public facts of a backup, as JSON fields scripts rely on
/// (`format_version`, `copies`, `stripes`, `data_shards`, `parity_shards`,
/// `shard_size`, `checksum`, ...) and as text for people.
struct InspectReport: Encodable {
    struct Extent: Encodable {
        var offset: UInt64
        var length: UInt64
    }

    struct KDF: Encodable {
        var algorithm = "argon2id"
        var timeCost: UInt32
        var memoryKib: UInt32
        var parallelism: UInt32
    }

    var formatVersion: Int
    var backupId: String
    var created: String
    var createdUnix: Int64
    var fileSize: UInt64
    var expectedFileSize: UInt64
    var copies: [Extent]
    var stripes: UInt64
    var dataShards: Int
    var parityShards: Int
    var shardSize: Int
    var recordSize: Int
    var headerSize: Int
    var checksum: String
    var compression: String
    var chunkSize: Int
    var ciphertextBytes: UInt64?
    var chunks: UInt64?
    var kdf: KDF
    var heads: [String]
    var layoutFromScan: Bool

    init(_ info: BackupInfo) {
        formatVersion = Int(info.formatVersion)
        backupId = info.backupID
        createdUnix = info.created
        created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(info.created)))
        fileSize = info.fileLength
        expectedFileSize = info.expectedFileLength
        copies = info.copyExtents.map { Extent(offset: $0.offset, length: $0.length) }
        stripes = info.stripeCount
        dataShards = info.dataShards
        parityShards = info.parityShards
        shardSize = info.shardSize
        recordSize = info.recordSize
        headerSize = info.headerSize
        checksum = info.checksum.name
        compression = info.compression.description
        chunkSize = info.chunkSize
        ciphertextBytes = info.ciphertextLength
        chunks = info.chunkCount
        kdf = KDF(timeCost: info.kdf.timeCost, memoryKib: info.kdf.memoryKiB, parallelism: info.kdf.parallelism)
        heads = info.heads
        layoutFromScan = info.layoutFromScan
    }

    var text: String {
        var lines = [
            "format version  \(formatVersion)",
            "backup id       \(backupId)",
            "created         \(created)",
            "file size       \(formatBytes(fileSize))"
                + (fileSize == expectedFileSize
                    ? "" : " (expected \(formatBytes(expectedFileSize)): truncated or extended)"),
            "stripes         \(stripes) of \(dataShards) data + \(parityShards) parity shards of \(shardSize) bytes",
            "checksum        \(checksum)",
            "compression     \(compression), chunks of \(formatBytes(chunkSize))",
            "key derivation  argon2id t=\(kdf.timeCost) m=\(kdf.memoryKib) KiB p=\(kdf.parallelism)",
            "heads           \(heads.joined(separator: ", "))" + (layoutFromScan ? " (layout found by scanning)" : ""),
        ]
        for (i, copy) in copies.enumerated() {
            lines.append("copy \(i == 0 ? "A" : "B")          offset \(copy.offset), \(formatBytes(copy.length))")
        }
        return lines.joined(separator: "\n")
    }
}
