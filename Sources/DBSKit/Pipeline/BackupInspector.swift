import DBSIntegrity
import DBSSecurity

/// What a backup file says about itself without a passphrase.
public struct BackupInfo: Sendable, Equatable {
    public internal(set) var formatVersion: UInt16
    /// 32 hex digits.
    public internal(set) var backupID: String
    /// Unix time, seconds.
    public internal(set) var created: Int64
    public internal(set) var dataShards: Int
    public internal(set) var parityShards: Int
    public internal(set) var shardSize: Int
    public internal(set) var checksum: ChecksumAlgorithm
    public internal(set) var compression: ChunkCompression
    public internal(set) var chunkSize: Int
    public internal(set) var kdf: KDFParameters
    public internal(set) var copies: Int
    public internal(set) var stripeCount: UInt64
    /// From an intact head; nil when the layout came from scanning.
    public internal(set) var ciphertextLength: UInt64?
    public internal(set) var chunkCount: UInt64?
    public internal(set) var fileLength: UInt64
    /// What the layout says the file's length should be.
    public internal(set) var expectedFileLength: UInt64
    public internal(set) var recordSize: Int
    public internal(set) var headerSize: Int
    /// (offset, length) of copy A and, if present, copy B.
    public internal(set) var copyExtents: [CopyExtent]
    /// Per head (0 file start, 1 start of copy B, 2 file end): "intact", "corrected",
    /// "unreadable".
    public internal(set) var heads: [String]
    /// True when no head was readable and the layout came from stripe headers.
    public internal(set) var layoutFromScan: Bool

    public struct CopyExtent: Sendable, Equatable {
        public internal(set) var offset: UInt64
        public internal(set) var length: UInt64
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
