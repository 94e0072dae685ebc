/// Reads one stripe of a located container and repairs it, exactly as DESIGN §3:
///
/// 1. copy A's shards, each checked against its checksum; a failing one is taken from
///    copy B if B's passes;
/// 2. shards bad in both copies are erasures: if there are at most m, Reed-Solomon
///    rebuilds them and they are checked again;
/// 3. otherwise a column-wise decode over both copies: where A and B agree the byte is
///    the candidate, where they differ it is an erasure for that column only,
///    checksum-verified shards are trusted (never changed); then errors-and-erasures
///    decoding, and the checksums again;
/// 4. a shard still failing is lost, reported with its copy, stripe, shard and offset.
///
/// When both copies of the stripe's header are unreadable there are no checksums: the
/// stripe is decoded from both copies by Reed-Solomon alone and returned unverified,
/// for the payload's GCM tags to authenticate (`Recovered.checksumVerified` is false).
///
/// Thread-safe: the pipeline recovers several stripes at once on one instance.
final class StripeRecovery: Sendable {
    let file: PositionedFile
    let fileLength: UInt64
    let descriptor: BackupDescriptor
    let layout: ContainerLayout
    let code: ReedSolomon

    init(file: PositionedFile, fileLength: UInt64, descriptor: BackupDescriptor, layout: ContainerLayout)
        throws(ReedSolomonError) {
        self.file = file
        self.fileLength = fileLength
        self.descriptor = descriptor
        self.layout = layout
        code = try ReedSolomon(dataShards: layout.dataShards, parityShards: layout.parityShards)
    }

    /// A stripe as recovered.
    struct Recovered: Sendable {
        var index: UInt64
        /// All n shards (`layout.stripeSize` bytes), repaired; meaningful only if `usable`.
        var shards: [UInt8]
        /// Ciphertext bytes in the stripe (from its header; the full capacity when no
        /// header survived).
        var dataLength: Int
        var isLast: Bool
        var record: StripeRepairRecord
        /// Every shard passes its checksum.
        var checksumVerified: Bool
        /// The bytes can be used: verified by checksums, or (no header) a consistent
        /// Reed-Solomon codeword left for GCM to authenticate.
        var usable: Bool { record.lost.isEmpty }
        /// The ciphertext bytes of the stripe.
        var data: ArraySlice<UInt8> { shards[0..<dataLength] }
    }

    /// One copy's record as read from disk.
    private struct CopyRead {
        var headerBlock: [UInt8]
        var shards: [UInt8]
        /// Bytes of `shards` actually read (the rest is past the end of the file or unreadable).
        var available: Int
        var header: StripeHeader?
        var headerCorrected: Bool
    }

    /// Recovers stripe `index`. With `examineBothCopies` (validation, repair) copy B is
    /// read and checked even when copy A is clean, so its damage is reported too.
    func recover(_ index: UInt64, examineBothCopies: Bool = false) -> Recovered {
        let n = layout.totalShards, s = layout.shardSize
        var record = StripeRepairRecord(stripe: index)
        let a = read(copy: 0, stripe: index)
        if a.header == nil || a.headerCorrected { record.headersRepaired.append(0) }

        // The clean path: copy A's header and every shard check out.
        var failingA: [Int]? = a.header.map {
            ShardChecksums.failing(a.shards, shardCount: n, shardSize: s, table: $0.checksums,
                                   algorithm: descriptor.checksum)
        }
        if let header = a.header, failingA!.isEmpty, !examineBothCopies || layout.copies == 1 {
            return Recovered(index: index, shards: a.shards, dataLength: header.dataLength, isLast: header.isLast,
                             record: record, checksumVerified: true)
        }

        let b: CopyRead? = layout.copies == 2 ? read(copy: 1, stripe: index) : nil
        if let b, b.header == nil || b.headerCorrected { record.headersRepaired.append(1) }

        guard let header = a.header ?? b?.header else {
            return decodeWithoutHeader(index, a: a, b: b, record: record)
        }
        let table = header.checksums
        if failingA == nil {
            failingA = ShardChecksums.failing(a.shards, shardCount: n, shardSize: s, table: table,
                                              algorithm: descriptor.checksum)
        }
        let badA = Set(failingA!)
        let badB: Set<Int> = b.map {
            Set(ShardChecksums.failing($0.shards, shardCount: n, shardSize: s, table: table,
                                       algorithm: descriptor.checksum))
        } ?? Set(0..<n)

        var shards = a.shards
        for shard in badA.sorted() where !badB.contains(shard) {
            shards.replaceSubrange((shard * s)..<((shard + 1) * s), with: b!.shards[(shard * s)..<((shard + 1) * s)])
            record.shardsFromOtherCopy.append(ShardPosition(copy: 0, shard: shard))
        }
        if b != nil {
            for shard in badB.sorted() where !badA.contains(shard) {
                record.shardsFromOtherCopy.append(ShardPosition(copy: 1, shard: shard))
            }
        }
        let erased = badA.intersection(badB).sorted()
        var result = Recovered(index: index, shards: shards, dataLength: header.dataLength, isLast: header.isLast,
                               record: record, checksumVerified: true)
        if erased.isEmpty { return result }

        // Step 2: whole-shard erasures.
        if erased.count <= layout.parityShards {
            var attempt = shards
            if (try? code.reconstruct(stripe: &attempt, shardLength: s, erased: erased)) != nil,
               erased.allSatisfy({ ShardChecksums.matches(attempt, shard: $0, shardSize: s, table: table,
                                                          algorithm: descriptor.checksum) }) {
                result.shards = attempt
                result.record.shardsRebuilt = erased
                return result
            }
        }

        // Step 3: column-wise errors-and-erasures over both copies.
        var erasures: [Int: [Int]] = [:]
        for shard in erased {
            mergeColumns(of: shard, into: &shards, a: a, b: b, erasures: &erasures)
        }
        let trusted = Set(0..<n).subtracting(erased)
        if let report = try? code.correctColumns(stripe: &shards, shardLength: s, erasures: erasures,
                                                 trusted: trusted) {
            result.record.bytesCorrected = report.corrections.count
        }
        result.shards = shards
        for shard in erased where !ShardChecksums.matches(shards, shard: shard, shardSize: s, table: table,
                                                           algorithm: descriptor.checksum) {
            for copy in 0..<layout.copies {
                result.record.lost.append(LostShard(copy: copy, stripe: index, shard: shard,
                                                    fileOffset: layout.shardOffset(copy: copy, stripe: index, shard: shard)))
            }
        }
        result.checksumVerified = result.record.lost.isEmpty
        return result
    }

    /// Both headers are gone: decode the stripe from both copies with Reed-Solomon
    /// alone. The result is usable only if it is a consistent codeword; it is not
    /// checksum-verified, so only GCM-authenticated plaintext may ever come of it.
    private func decodeWithoutHeader(_ index: UInt64, a: CopyRead, b: CopyRead?,
                                     record: StripeRepairRecord) -> Recovered {
        var record = record
        record.decodedWithoutHeader = true
        var shards = a.shards
        var erasures: [Int: [Int]] = [:]
        for shard in 0..<layout.totalShards {
            mergeColumns(of: shard, into: &shards, a: a, b: b, erasures: &erasures)
        }
        var decoded = false
        if let report = try? code.correctColumns(stripe: &shards, shardLength: layout.shardSize,
                                                 erasures: erasures, trusted: []),
           report.failedColumns.isEmpty,
           (try? code.isConsistent(stripe: shards, shardLength: layout.shardSize)) == true {
            record.bytesCorrected = report.corrections.count
            decoded = true
        }
        if !decoded {
            for shard in 0..<layout.totalShards {
                record.lost.append(LostShard(copy: 0, stripe: index, shard: shard,
                                             fileOffset: layout.shardOffset(copy: 0, stripe: index, shard: shard)))
            }
        }
        return Recovered(index: index, shards: shards, dataLength: layout.stripeDataCapacity,
                         isLast: index + 1 == layout.stripeCount, record: record, checksumVerified: false)
    }

    /// Fills shard `shard` of `shards` with the best candidate bytes from both copies
    /// and records, per column, where the copies disagree (or neither was readable):
    /// those bytes are erasures for that column only.
    private func mergeColumns(of shard: Int, into shards: inout [UInt8], a: CopyRead, b: CopyRead?,
                              erasures: inout [Int: [Int]]) {
        let s = layout.shardSize
        let base = shard * s
        for column in 0..<s {
            let position = base + column
            let inA = position < a.available
            let inB = b.map { position < $0.available } ?? false
            switch (inA, inB) {
            case (true, true):
                if a.shards[position] != b!.shards[position] { erasures[column, default: []].append(shard) }
            case (false, true):
                shards[position] = b!.shards[position]
            case (true, false):
                break
            case (false, false):
                erasures[column, default: []].append(shard)
            }
        }
    }

    /// Reads copy `copy`'s record of stripe `index` and decodes its header; a record
    /// cut short by the end of the file or an I/O error reads as missing bytes.
    private func read(copy: Int, stripe index: UInt64) -> CopyRead {
        let offset = layout.recordOffset(copy: copy, stripe: index)
        var headerBlock = [UInt8](repeating: 0, count: ProtectedBlock.size)
        var shards = [UInt8](repeating: 0, count: layout.stripeSize)
        var available = 0
        var header: StripeHeader?
        var corrected = false
        if offset < fileLength {
            let headerRead = (try? file.read(into: &headerBlock, range: 0..<headerBlock.count, at: offset)) ?? 0
            available = (try? file.read(into: &shards, range: 0..<shards.count,
                                        at: offset + UInt64(layout.headerSize))) ?? 0
            if headerRead == headerBlock.count, let decoded = ProtectedBlock.decode(headerBlock),
               let parsed = try? StripeHeader(body: decoded.body),
               parsed.copy == copy, parsed.stripeIndex == index, parsed.descriptor == descriptor,
               parsed.isLast == (index + 1 == layout.stripeCount) {
                header = parsed
                corrected = decoded.correctedBytes > 0
            }
        }
        return CopyRead(headerBlock: headerBlock, shards: shards, available: available, header: header,
                        headerCorrected: corrected)
    }
}
