import DBSIO
import DBSIntegrity
import DBSSystem

/// Writes a fresh, clean file from a damaged one, without the passphrase.
///
/// Healing happens at the ciphertext level: every stripe is recovered as a restore
/// would (both copies examined), its parity recomputed from the recovered data, and
/// written to both copies with fresh headers, then the three heads. The new file is
/// validated structurally and renamed into place only if it is healthy. A stripe
/// beyond repair stops it with `.damagedBeyondRepair` and nothing is written.
///
/// A stripe recovered without any surviving header was decoded by Reed-Solomon alone;
/// its bytes get fresh checksums here, and the payload's GCM tags still authenticate
/// them at restore time.
public enum BackupRepairer {
    /// - Parameter overwrite: replace an existing destination (repairing in place,
    ///   `destination == source`, always may: the source is read before the rename).
    public static func repair(
        source: String, destination: String, threads: Int = BackupOptions.coreCount,
        overwrite: Bool = false
    )
        throws(BackupError) -> RepairReport
    {
        let (file, located) = try ContainerLocator.open(source)
        let layout = located.layout
        let descriptor = located.descriptor
        let recovery: StripeRecovery
        do {
            recovery = try StripeRecovery(
                file: file, fileLength: located.fileLength, descriptor: descriptor,
                layout: layout)
        } catch {
            throw .internalFailure(cause: error)
        }
        let output: AtomicOutputFile
        do {
            output = try AtomicOutputFile(destination: destination, overwrite: overwrite || destination == source)
        } catch {
            if error.errno == EEXIST { throw .destinationExists(destination) }
            throw BackupError(error)
        }
        let threads = BackupOptions.clampThreads(threads)
        let container = ContainerWriter(
            file: output.file, descriptor: descriptor, code: recovery.code, threads: threads)
        var report = RepairReport()
        report.headsDamaged = located.damagedHeads
        report.layoutFromScan = located.fromScan
        var walker = SealedChunkWalker(chunkSize: descriptor.chunkSize)
        do throws(BackupError) {
            try StripeBatches.forEach(stripeCount: layout.stripeCount, threads: threads) {
                (first, count) throws(BackupError) in
                let recovered = Parallel.map(count: count, threads: threads) { i in
                    recovery.recover(first + UInt64(i), examineBothCopies: true)
                }
                var buffer = [UInt8]()
                buffer.reserveCapacity(count * layout.stripeSize)
                for stripe in recovered {
                    report.add(stripe.repair)
                    guard stripe.usable else { throw .damagedBeyondRepair(report) }
                    walker.consume(stripe.data)
                    if let defect = walker.defect { throw .corruptedStream(defect) }
                    buffer.append(contentsOf: stripe.shards)
                }
                let stripes = recovered.map { stripe in
                    ContainerWriter.Stripe(
                        index: stripe.index,
                        dataLength: stripe.checksumVerified
                            ? stripe.dataLength
                            : walker.dataLength(inStripe: stripe.index, capacity: layout.stripeDataCapacity),
                        isLast: stripe.index + 1 == layout.stripeCount)
                }
                do throws(ContainerError) {
                    try container.writeStripes(stripes, shards: &buffer, copies: 0..<layout.copies, layout: layout)
                } catch {
                    throw BackupError(error)
                }
            }
            if let finalEnd = walker.finalEnd {
                report.addDamagedHeads(located.headsDisagreeing(finalEnd: finalEnd, chunks: walker.sealedChunks))
            }
            guard let ciphertextLength = walker.finalEnd ?? located.ciphertextLength,
                let chunkCount = walker.finalEnd != nil ? walker.sealedChunks : located.chunkCount
            else {
                throw .corruptedStream("no final chunk found in the ciphertext stream")
            }
            do {
                try container.writeHeads(layout, ciphertextLength: ciphertextLength, chunkCount: chunkCount)
            } catch {
                throw BackupError(error)
            }
            do { try output.file.sync() } catch { throw BackupError(error) }
            let verdict = try BackupValidator.validate(path: output.temporaryPath, threads: threads)
            guard verdict == .healthy else {
                throw .verificationFailed("the repaired file does not validate: \(verdict.report)")
            }
            do {
                try output.commit()
            } catch {
                if error.errno == EEXIST { throw BackupError.destinationExists(destination) }
                throw BackupError(error)
            }
        } catch {
            output.discard()
            throw error
        }
        return report
    }
}
