import DBSIO
import DBSIntegrity

/// The verdict of a passphrase-less validation.
public enum ValidationReport: Sendable, Equatable {
    /// Every head, header and shard of both copies checks out, and every stripe is a
    /// consistent Reed-Solomon codeword.
    case healthy
    /// Damage was found and all of it can be repaired (`BackupRepairer`), or is
    /// repaired on the fly by a restore.
    case healable(RepairReport)
    /// Some stripe cannot be recovered: a restore would refuse.
    case unrecoverable(RepairReport)

    public var report: RepairReport {
        switch self {
        case .healthy: RepairReport()
        case .healable(let report), .unrecoverable(let report): report
        }
    }
}

/// Checks a backup without its passphrase: heads, both copies' stripe headers and
/// shard checksums, and the Reed-Solomon consistency of every stripe. It cannot check
/// the GCM tags (that needs the key); a restore or verify-after-write does.
public enum BackupValidator {
    public static func validate(
        path: String, threads: Int = BackupOptions.coreCount
    ) throws(BackupError)
        -> ValidationReport
    {
        let (file, located) = try ContainerLocator.open(path)
        let recovery: StripeRecovery
        do {
            recovery = try StripeRecovery(
                file: file, fileLength: located.fileLength, descriptor: located.descriptor,
                layout: located.layout)
        } catch {
            throw .internalFailure(cause: error)
        }
        var report = RepairReport()
        report.headsDamaged = located.damagedHeads
        report.layoutFromScan = located.fromScan
        let threads = BackupOptions.clampThreads(threads)
        // Stripes wholly past the end of the file in every copy (a truncation, or a head
        // claiming more stripes than the file holds) are not walked one by one: the
        // first of them is reported and the rest follow from it.
        let layout = located.layout
        let present =
            (0..<layout.copies).map { copy -> UInt64 in
                let start = layout.copyOffset(copy)
                guard located.fileLength > start else { return 0 }
                return (located.fileLength - start + UInt64(layout.recordSize) - 1) / UInt64(layout.recordSize)
            }.max() ?? 0
        let walked = min(layout.stripeCount, present + 1)
        // The clear prefixes are walked over the recovered stripes in order, so
        // that what a restore would refuse in the stream (an impossible sealed chunk, no final
        // chunk, an end other than the head's) is found without the key too.
        var walker = SealedChunkWalker(chunkSize: located.descriptor.chunkSize)
        StripeBatches.forEach(stripeCount: walked, threads: threads) { first, count in
            let stripes = Parallel.map(count: count, threads: threads) { i in
                var recovered = recovery.recover(first + UInt64(i), examineBothCopies: true)
                if recovered.usable, recovered.checksumVerified,
                    (try? recovery.code.isConsistent(
                        stripe: recovered.shards,
                        shardLength: recovery.layout.shardSize)) != true
                {
                    recovered.repair.parityInconsistent = true
                }
                return recovered
            }
            for stripe in stripes {
                report.add(stripe.repair)
                if stripe.usable && report.lostShards.isEmpty { walker.consume(stripe.data) }
            }
        }
        if !report.lostShards.isEmpty { return .unrecoverable(report) }
        if let problem = walker.problem(in: layout) {
            report.streamDefects.append(problem)
            return .unrecoverable(report)
        }
        if let finalEnd = walker.finalEnd {
            report.addDamagedHeads(located.headsDisagreeing(finalEnd: finalEnd, chunks: walker.sealedChunks))
        }
        return report.isClean ? .healthy : .healable(report)
    }
}

/// Walks the stripes of a container in batches of a few per thread.
enum StripeBatches {
    static func forEach<E: Error>(
        stripeCount: UInt64, threads: Int,
        _ body: (_ first: UInt64, _ count: Int) throws(E) -> Void
    ) throws(E) {
        let batch = UInt64(max(2, 2 * threads))
        var first: UInt64 = 0
        while first < stripeCount {
            let count = Int(min(batch, stripeCount - first))
            try body(first, count)
            first += UInt64(count)
        }
    }
}
