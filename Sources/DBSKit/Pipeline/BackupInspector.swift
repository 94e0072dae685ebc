import DBSIntegrity
import DBSSecurity

/// What a backup file says about itself without a passphrase.
public struct BackupInfo: Sendable, Equatable {
    public var formatVersion: UInt16
    /// 32 hex digits.
    public var backupID: String
    /// Unix time, seconds.
    public var created: Int64
    public var dataShards: Int
    public var parityShards: Int
    public var shardSize: Int
    public var checksum: ChecksumAlgorithm
    public var compression: ChunkCompression
    public var chunkSize: Int
    public var kdf: KDFParameters
    public var copies: Int
    public var stripeCount: UInt64
    /// From an intact head; nil when the layout came from scanning.
    public var ciphertextLength: UInt64?
    public var chunkCount: UInt64?
    public var fileLength: UInt64
    /// What the layout says the file's length should be.
    public var expectedFileLength: UInt64
    public var recordSize: Int
    public var headerSize: Int
    /// (offset, length) of copy A and, if present, copy B.
    public var copyExtents: [CopyExtent]
    /// Per head (0 file start, 1 start of copy B, 2 file end): "intact", "corrected",
    /// "unreadable".
    public var heads: [String]
    /// True when no head was readable and the layout came from stripe headers.
    public var layoutFromScan: Bool

    public struct CopyExtent: Sendable, Equatable {
        public var offset: UInt64
        public var length: UInt64
    }
}

/// Reads a backup's public metadata: no passphrase, no payload decryption.
public enum BackupInspector {
    public static func inspect(path: String) throws(BackupError) -> BackupInfo {
        info(try ContainerLocator.open(path).located)
    }

    static func info(_ located: LocatedContainer) -> BackupInfo {
        let d = located.descriptor
        let layout = located.layout
        return BackupInfo(
            formatVersion: FormatVersion.current, backupID: BackupWriter.hex(d.backupID), created: d.created,
            dataShards: d.dataShards, parityShards: d.parityShards, shardSize: d.shardSize, checksum: d.checksum,
            compression: d.compression, chunkSize: d.chunkSize, kdf: d.kdf, copies: d.copies,
            stripeCount: layout.stripeCount, ciphertextLength: located.ciphertextLength,
            chunkCount: located.chunkCount, fileLength: located.fileLength, expectedFileLength: layout.fileLength,
            recordSize: layout.recordSize, headerSize: layout.headerSize,
            copyExtents: (0..<layout.copies).map {
                BackupInfo.CopyExtent(
                    offset: layout.copyOffset($0),
                    length: layout.copyLength)
            },
            heads: located.heads.map(\.rawValue), layoutFromScan: located.fromScan)
    }
}
