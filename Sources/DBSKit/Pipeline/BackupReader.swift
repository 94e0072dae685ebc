import DBSIO
import DBSIntegrity
import DBSSecurity

/// Reads a backup back as its plaintext stream, repairing as it goes (docs/FORMAT.md, "Reading").
///
/// Only verified plaintext is ever returned: every byte comes from a chunk whose GCM
/// tag verified, cut from stripes that passed their checksums after repair. A stripe
/// beyond repair ends the read with `.damagedBeyondRepair(report)`.
public final class BackupReader: ByteSource {
    private let engine: RestoreEngine
    private var current: [UInt8] = []
    private var position = 0

    /// The backup's descriptor fields, for callers that show them.
    public let backupID: String

    /// Opens the backup and unwraps its data key. A wrong passphrase throws
    /// `.wrongPassphrase` here, before any plaintext exists; Argon2id parameters above
    /// `kdfCap` (taken from the descriptor the file's metadata elects, never from one
    /// unverified head) throw `.kdfCostAboveCap` before any key derivation.
    public init(
        path: String, passphrase: SecureBytes, threads: Int = BackupOptions.coreCount,
        kdfCap: KDFCostCap = .default
    ) throws(BackupError) {
        let (file, located) = try ContainerLocator.open(path)
        guard kdfCap.admits(located.descriptor.kdf) else { throw .kdfCostAboveCap(located.descriptor.kdf, kdfCap) }
        let cipher = try Self.openKey(located.descriptor, passphrase: passphrase)
        engine = try RestoreEngine(
            file: file, located: located, cipher: cipher, threads: BackupOptions.clampThreads(threads))
        backupID = BackupWriter.hex(located.descriptor.backupID)
    }

    /// The chunk cipher of a backup: its key envelope opened (`KeyEnvelope.open`:
    /// Argon2id of the passphrase, parameters bounded first, then the data key's unwrap,
    /// which authenticates the descriptor).
    static func openKey(_ descriptor: BackupDescriptor, passphrase: SecureBytes) throws(BackupError) -> ChunkCipher {
        do {
            let dataKey = try KeyEnvelope.open(
                descriptor.wrappedKey, passphrase: passphrase, salt: descriptor.salt,
                parameters: descriptor.kdf,
                associatedData: descriptor.wrapAssociatedData)
            return try ChunkCipher(dataKey: dataKey, backupID: descriptor.backupID)
        } catch {
            switch error {
            case .wrongPassphrase: throw .wrongPassphrase
            case .kdfParametersOutOfBounds(let why): throw .kdfParametersOutOfBounds(why)
            default: throw .internalFailure("opening the data key", cause: error)
            }
        }
    }

    /// Appends up to `maxLength` verified plaintext bytes to `buffer`; 0 at the end.
    public func read(into buffer: inout [UInt8], maxLength: Int) throws -> Int {
        guard maxLength > 0 else { return 0 }
        while position == current.count {
            guard let next = try engine.next() else { return 0 }
            current = next
            position = 0
        }
        let n = min(maxLength, current.count - position)
        buffer.append(contentsOf: current[position..<(position + n)])
        position += n
        return n
    }

    /// What was repaired so far (all of it once the stream has been read to its end).
    public var repairReport: RepairReport { engine.report }
}
