import DBSCompression
import DBSIO
import DBSIntegrity
import DBSSecurity
import DBSSystem

/// What a finished backup is.
public struct BackupSummary: Sendable, Equatable {
    public internal(set) var path: String
    /// 32 hex digits.
    public internal(set) var backupID: String
    public internal(set) var plaintextBytes: UInt64
    public internal(set) var ciphertextBytes: UInt64
    public internal(set) var fileBytes: UInt64
    public internal(set) var chunks: UInt64
    public internal(set) var stripes: UInt64
    /// SHA-256 over the XXH3-128 digests of the plaintext chunks in order, 64 hex
    /// digits: what verify-after-write recomputes from the decrypted file. XXH3 per
    /// chunk (0.04 ns per byte, in the chunk workers) rather than one SHA-256 of the
    /// stream (0.74 ns per byte measured here, serial): it only has to catch a
    /// write that does not read back, while GCM authenticates the ciphertext and the
    /// payload carries its own SHA-256 of the whole plaintext. Empty when
    /// `verifyAfterWrite` is off (nothing would check it).
    public internal(set) var plaintextDigest: String
    /// The finished file was read back and checked before it was renamed into place.
    public internal(set) var verified: Bool
}

/// Writes one backup file from a plaintext byte stream.
///
/// The caller's bytes are cut into chunks here; batches of full chunks go to the
/// `SealingStage`, which compresses, seals, encodes and checksums them on a thread of
/// its own while the caller produces the next batch, and hands copy A's records to a
/// background writer. Memory stays at a few batch buffers, whatever the size of the
/// backup (docs/PERFORMANCE.md, "Write and read pipelines").
///
/// `finish` seals the last chunk and writes the three heads; then copy B is written
/// by reading copy A back from the file: its offset depends on the stripe count, known
/// only at the end, and reading back from the page cache costs less than spooling
/// (docs/FORMAT.md, "Why copy B is written last"). With verify-after-write (the
/// default) that read-back is the verify pass over copy A (every shard checked, every
/// chunk opened, the plaintext digest compared) and copy B is written from the
/// verified records; copy B is then read back and every shard checked. Then the file
/// is fsync'd and renamed into place. `abort`, a failure, or dropping the writer
/// unfinished removes the temp file.
public final class BackupWriter: ByteSink {
    private let options: BackupOptions
    private var output: AtomicOutputFile?
    /// Where the unfinished file can be opened (`/proc/self/fd/N` when it is unnamed),
    /// for tests that damage it behind the writer's back.
    var temporaryPath: String? { output?.temporaryPath }
    private let descriptor: BackupDescriptor
    private let cipher: ChunkCipher
    private let container: ContainerWriter
    private let stage: SealingStage

    private var fullChunks: [[UInt8]] = []
    private var currentChunk: [UInt8] = []
    private var plaintextLength: UInt64 = 0
    private var closed = false

    private var batchChunks: Int { SealingStage.batchChunks(threads: options.threads) }

    /// Creates the temp file beside `destination` and derives the keys. Refuses an
    /// existing destination unless `options.overwrite`.
    public convenience init(destination: String, passphrase: SecureBytes, options: BackupOptions) throws(BackupError) {
        try self.init(destination: destination, passphrase: passphrase, options: options, normalizing: true)
    }

    /// `normalizing` false writes with the passphrase's bytes as given, as writers did
    /// before NFC normalisation: for the tests that older backups still open. `draws`
    /// fixes what is otherwise random or the time: for the test vectors only.
    init(
        destination: String, passphrase: SecureBytes, options: BackupOptions, normalizing: Bool,
        draws: WriterDraws? = nil
    ) throws(BackupError) {
        let options = try options.validated()
        self.options = options
        do {
            output = try AtomicOutputFile(destination: destination, overwrite: options.overwrite)
        } catch {
            if error.errno == EEXIST { throw .destinationExists(destination) }
            throw BackupError(error)
        }
        do {
            let backupID: [UInt8]
            let salt: [UInt8]
            let dataKey: SecureBytes
            if let draws {
                (backupID, salt, dataKey) = (draws.backupID, draws.salt, SecureBytes(draws.dataKey))
            } else {
                (backupID, salt, dataKey) = (
                    try SecureRandom.bytes(16), try KeyEnvelope.newSalt(),
                    try SecureBytes(randomCount: 32)
                )
            }
            var descriptor = BackupDescriptor(
                backupID: backupID, created: draws?.created ?? Int64(time(nil)), salt: salt, kdf: options.kdf,
                wrappedKey: [UInt8](repeating: 0, count: WrappedKey.serializedLength), chunkSize: options.chunkSize,
                compression: options.compression, checksum: options.checksum, copies: options.copies,
                dataShards: options.dataShards, parityShards: options.parityShards, shardSize: options.shardSize)
            descriptor.wrappedKey = try KeyEnvelope.seal(
                dataKey, passphrase: passphrase, normalizing: normalizing, salt: salt, parameters: options.kdf,
                associatedData: descriptor.wrapAssociatedData, nonce: draws?.wrapNonce
            ).bytes
            self.descriptor = descriptor
            cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        } catch {
            output?.discard()
            if case .kdfParametersOutOfBounds(let why) = error { throw .kdfParametersOutOfBounds(why) }
            throw .internalFailure("setting up the keys", cause: error)
        }
        var compressor: ChunkCompressor?
        let code: ReedSolomon
        do {
            if case .zstd(let level) = options.compression { compressor = try ChunkCompressor(level: level) }
            code = try ReedSolomon(dataShards: options.dataShards, parityShards: options.parityShards)
        } catch {
            output?.discard()
            throw .invalidOptions("\(error)")
        }
        container = ContainerWriter(file: output!.file, descriptor: descriptor, code: code, threads: options.threads)
        stage = SealingStage(options: options, cipher: cipher, compressor: compressor, container: container)
        currentChunk.reserveCapacity(options.chunkSize)
    }

    deinit {
        stage.cancel()
        output?.discard()
    }

    /// The backup id, 32 hex digits.
    public var backupID: String { Self.hex(descriptor.backupID) }

    /// Appends plaintext to the backup.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw BackupError.writerClosed }
        do {
            try append(bytes)
        } catch {
            abort()
            throw error
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        plaintextLength += UInt64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            // More input follows, so every chunk already full is not the final one.
            if fullChunks.count == batchChunks { try stage.submit(&fullChunks) }
            let take = min(bytes.count - offset, options.chunkSize - currentChunk.count)
            currentChunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            if currentChunk.count == options.chunkSize {
                fullChunks.append(currentChunk)
                currentChunk = stage.takeSpareChunk() ?? []
                currentChunk.reserveCapacity(options.chunkSize)
            }
        }
    }

    /// Seals the last chunk, writes the heads and copy B, verifies the file (unless
    /// `verifyAfterWrite` is off), fsyncs it and renames it into place.
    public func finish() throws(BackupError) -> BackupSummary {
        guard !closed, let output else { throw .writerClosed }
        do throws(BackupError) {
            if !currentChunk.isEmpty || fullChunks.isEmpty { fullChunks.append(currentChunk) }
            currentChunk = []
            let totals = try stage.finish(fullChunks)
            fullChunks = []
            let layout = descriptor.layout(stripeCount: totals.stripes)
            do {
                try container.writeHeads(layout, ciphertextLength: totals.ciphertextLength, chunkCount: totals.chunks)
            } catch {
                throw BackupError(error)
            }
            if options.verifyAfterWrite {
                try verifyCopyA(layout, expectedDigest: totals.plaintextDigest)
                try drainBackground()
                if layout.copies == 2 { try verifyCopyB(layout) }
            } else if layout.copies == 2 {
                try writeCopyB(layout)
                try drainBackground()
            }
            do { try output.file.sync() } catch { throw BackupError(error) }
            do {
                try output.commit()
            } catch {
                if error.errno == EEXIST { throw BackupError.destinationExists(output.destination) }
                throw BackupError(error)
            }
            closed = true
            self.output = nil
            return BackupSummary(
                path: output.destination, backupID: backupID, plaintextBytes: plaintextLength,
                ciphertextBytes: totals.ciphertextLength, fileBytes: layout.fileLength, chunks: totals.chunks,
                stripes: totals.stripes, plaintextDigest: Self.hex(totals.plaintextDigest),
                verified: options.verifyAfterWrite)
        } catch {
            abort()
            throw error
        }
    }

    /// Stops: the temp file is removed and nothing appears at the destination.
    public func abort() {
        closed = true
        stage.cancel()
        output?.discard()
        output = nil
        fullChunks = []
        currentChunk = []
    }

    /// Waits until everything written so far is in the temp file: the stage and the
    /// background writer run behind `write`. Tests that damage the temp file in the
    /// middle of a backup call it first, so the damage is not written over.
    func drainPipeline() throws(BackupError) {
        stage.drain()
        try drainBackground()
    }

    private func drainBackground() throws(BackupError) {
        do { try container.drain() } catch { throw BackupError(error) }
    }

    /// Without verify-after-write: copy A read back (from the page cache) stripe by
    /// stripe, every shard against its checksum (the only read-back check then), and
    /// copy B written from the records that pass.
    private func writeCopyB(_ layout: ContainerLayout) throws(BackupError) {
        let recovery = try readBack(layout)
        let threads = options.threads
        try StripeBatches.forEach(stripeCount: layout.stripeCount, threads: threads) {
            (first, count) throws(BackupError) in
            let stripes = Parallel.map(count: count, threads: threads) { i in recovery.recover(first + UInt64(i)) }
            try duplicate(stripes, layout: layout)
        }
    }

    /// Hands copy B's records of `stripes` (copy A's, as read back) to the container
    /// writer, which refuses a stripe that did not read back clean.
    private func duplicate(_ stripes: [StripeRecovery.Recovered], layout: ContainerLayout) throws(BackupError) {
        do { try container.writeCopyB(stripes, layout: layout) } catch { throw BackupError(error) }
    }

    /// Stripe reads of the temp file as written so far.
    private func readBack(_ layout: ContainerLayout) throws(BackupError) -> StripeRecovery {
        do {
            let file = try PositionedFile.openForReading(output!.temporaryPath)
            return try StripeRecovery(file: file, fileLength: layout.fileLength, descriptor: descriptor, layout: layout)
        } catch let error as IOError {
            throw BackupError(error)
        } catch {
            throw .internalFailure(cause: error)
        }
    }

    /// Verify-after-write, first pass: the heads read back intact, then copy A read back
    /// as a restore reads it (every shard against its checksum, every chunk opened, the
    /// plaintext digest compared with the one computed while writing). With two copies,
    /// copy B is written from those verified records as they come (the read-back of
    /// copy A that writing copy B needs anyway, done once for both).
    private func verifyCopyA(_ layout: ContainerLayout, expectedDigest: [UInt8]) throws(BackupError) {
        let (file, located) = try ContainerLocator.open(output!.temporaryPath)
        guard located.layout == layout, located.descriptor == descriptor, !located.fromScan,
            located.heads.allSatisfy({ $0 == .intact })
        else {
            throw .verificationFailed("the heads did not read back intact")
        }
        // The engine is local to this call, so the tap's hold on `self` ends with it.
        let tap: RestoreEngine.StripeTap? =
            layout.copies < 2
            ? nil
            : { (stripes) throws(BackupError) in
                try self.duplicate(stripes, layout: layout)
            }
        let engine = try RestoreEngine(
            file: file, located: located, cipher: cipher, threads: options.threads,
            digestChunks: true, onStripes: tap)
        do {
            while try engine.next() != nil {}
        } catch {
            throw .readBackFailed(error)
        }
        guard engine.report.isClean else { throw .verificationFailed("read-back found damage: \(engine.report)") }
        guard engine.plaintextDigest() == expectedDigest else {
            throw .verificationFailed("the plaintext read back does not match its digest")
        }
    }

    /// Verify-after-write, second pass: copy B read back, every stripe header intact
    /// and every shard passing its checksum (its bytes are copy A's, already opened).
    private func verifyCopyB(_ layout: ContainerLayout) throws(BackupError) {
        let recovery = try readBack(layout)
        let threads = options.threads
        try StripeBatches.forEach(stripeCount: layout.stripeCount, threads: threads) {
            (first, count) throws(BackupError) in
            let intact = Parallel.map(count: count, threads: threads) { i in
                recovery.isIntact(copy: 1, stripe: first + UInt64(i))
            }
            if let bad = intact.firstIndex(of: false) {
                throw .verificationFailed("copy B's stripe \(first + UInt64(bad)) did not read back intact")
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
