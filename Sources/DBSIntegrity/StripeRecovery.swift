import DBSReedSolomon
import DBSSystem

/// Reads one stripe of a located container and repairs it, as docs/FORMAT.md §10 ("Per stripe") says:
///
/// 1. copy A's shards, each checked against its checksum; a failing one is taken from
///    copy B if B's passes;
/// 2. shards bad in both copies are erasures: if there are at most m, Reed-Solomon
///    rebuilds them and they are checked again;
/// 3. otherwise a column-wise decode over both copies: where A and B agree the byte is
///    the candidate, where they differ it is an erasure for that column only,
///    checksum-verified shards are trusted (never changed); then errors-and-erasures
///    decoding, and the checksums again. Where that runs out of parity (a wrecked run
///    in one copy disagrees with the other copy at every byte), rounds that take one
///    copy's bytes as unflagged candidates follow, each keeping only the shards that
///    then verify (`resolveColumnwise`);
/// 4. a shard still failing is lost, reported with its copy, stripe, shard and offset.
///
/// A copy's record that fails where the layout puts it (no header, or failing shards) is
/// first looked for where bytes inserted or dropped before it moved it (`relocated`,
/// `StripeAnchors`); a record found so is reported as shifted.
///
/// When both copies of the stripe's header are unreadable there are no checksums: the
/// stripe is decoded from both copies by Reed-Solomon alone and returned unverified,
/// for the payload's GCM tags to authenticate (`Recovered.checksumVerified` is false).
///
/// Thread-safe: the pipeline recovers several stripes at once on one instance.
package final class StripeRecovery: Sendable {
    let file: PositionedFile
    let fileLength: UInt64
    let descriptor: BackupDescriptor
    package let layout: ContainerLayout
    package let code: ReedSolomon
    /// Where records moved by an inserted or dropped byte run really are, scanned for
    /// the first time a copy's record fails at its nominal offset.
    let anchors: LazyStripeAnchors

    package init(
        file: PositionedFile, fileLength: UInt64, descriptor: BackupDescriptor, layout: ContainerLayout
    )
        throws(ReedSolomonError)
    {
        self.file = file
        self.fileLength = fileLength
        self.descriptor = descriptor
        self.layout = layout
        code = try ReedSolomon(dataShards: layout.dataShards, parityShards: layout.parityShards)
        anchors = LazyStripeAnchors(file: file, fileLength: fileLength, descriptor: descriptor, layout: layout)
    }

    /// A stripe as recovered.
    package struct Recovered: Sendable {
        package var index: UInt64
        /// All n shards (`layout.stripeSize` bytes), repaired; meaningful only if `usable`.
        package var shards: [UInt8]
        /// Ciphertext bytes in the stripe (from its header; the full capacity when no
        /// header survived).
        package var dataLength: Int
        package var isLast: Bool
        /// The stripe header the shards were checked against (nil when none survived).
        package var header: StripeHeader?
        package var repair: StripeRepair
        /// Every shard passes its checksum.
        package var checksumVerified: Bool
        /// The bytes can be used: verified by checksums, or (no header) a consistent
        /// Reed-Solomon codeword left for GCM to authenticate.
        package var usable: Bool { repair.lost.isEmpty }
        /// The ciphertext bytes of the stripe.
        package var data: ArraySlice<UInt8> { shards[0..<dataLength] }
    }

    /// One copy's record as read from disk.
    private struct CopyRead {
        var shards: [UInt8]
        /// Bytes of `shards` read from the start (the rest is past the end of the file
        /// or unreadable), when every shard was read.
        var available: Int
        /// The shards read, when only some were (nil: all, up to `available`).
        var loaded: Set<Int>?
        var header: StripeHeader?
        var headerCorrected: Bool
        /// The record was read off its nominal offset (a shifted file).
        var shift: ShiftedRecord? = nil
        /// Without a header: the shards as read at the other shift the neighbouring
        /// records give, for the header-less decode to try (nil when there is none).
        var alternate: [UInt8]? = nil

        /// Whether byte `position` of the stripe was read from disk.
        func has(_ position: Int, shardSize: Int) -> Bool {
            guard let loaded else { return position < available }
            return loaded.contains(position / shardSize)
        }
    }

    /// Recovers stripe `index`. With `examineBothCopies` (validation, repair) copy B is
    /// read and checked even when copy A is clean, so its damage is reported too.
    package func recover(_ index: UInt64, examineBothCopies: Bool = false) -> Recovered {
        let n = layout.totalShards
        let s = layout.shardSize
        var repair = StripeRepair(stripe: index)
        var a = read(copy: 0, stripe: index)

        // The clean path: copy A's header and every shard check out.
        var failingA: [Int]? = a.header.map {
            ShardChecksums.failing(
                a.shards, shardCount: n, shardSize: s, table: $0.checksums,
                algorithm: descriptor.checksum)
        }
        if failingA?.isEmpty != true {
            a = relocated(a, failing: failingA, copy: 0, stripe: index)
            failingA = a.header.map {
                ShardChecksums.failing(
                    a.shards, shardCount: n, shardSize: s, table: $0.checksums,
                    algorithm: descriptor.checksum)
            }
        }
        if let shift = a.shift { repair.shifted.append(shift) }
        if a.header == nil || a.headerCorrected { repair.headersRepaired.append(0) }
        if let header = a.header, failingA!.isEmpty, !examineBothCopies || layout.copies == 1 {
            return Recovered(
                index: index, shards: a.shards, dataLength: header.dataLength, isLast: header.isLast,
                header: header, repair: repair, checksumVerified: true)
        }

        // Copy B: only the shards copy A lacks, unless all are to be examined or A's
        // header is gone (then B's checksums are needed for every shard).
        let wanted: Set<Int>? = examineBothCopies || a.header == nil ? nil : Set(failingA!)
        var b: CopyRead? = layout.copies == 2 ? read(copy: 1, stripe: index, shards: wanted) : nil
        if let read = b {
            let failing = read.header.map {
                ShardChecksums.failing(
                    read.shards, shardCount: n, shardSize: s, table: $0.checksums,
                    algorithm: descriptor.checksum, among: read.loaded)
                    + Array(Set(wanted ?? Set(0..<n)).subtracting(read.loaded ?? Set(0..<n)))
            }
            if failing?.isEmpty != true { b = relocated(read, failing: failing, copy: 1, stripe: index) }
        }
        if let shift = b?.shift { repair.shifted.append(shift) }
        if let b, b.header == nil || b.headerCorrected { repair.headersRepaired.append(1) }

        guard let header = a.header ?? b?.header else {
            return decodeWithoutHeader(index, a: a, b: b, repair: repair)
        }
        let table = header.checksums
        if failingA == nil {
            failingA = ShardChecksums.failing(
                a.shards, shardCount: n, shardSize: s, table: table,
                algorithm: descriptor.checksum)
        }
        let badA = Set(failingA!)
        // Shards of copy B not read (not wanted, or unreadable) count as bad.
        let badB: Set<Int> =
            b.map {
                let failing = ShardChecksums.failing(
                    $0.shards, shardCount: n, shardSize: s, table: table,
                    algorithm: descriptor.checksum, among: $0.loaded)
                return Set(failing).union(Set(0..<n).subtracting($0.loaded ?? Set(0..<n)))
            } ?? Set(0..<n)

        // The working buffer takes copy A's bytes over (no copy): where a shard is still
        // bad in it, its bytes are copy A's, which is what the column merge compares.
        var shards = a.shards
        a.shards = []
        for shard in badA.sorted() where !badB.contains(shard) {
            shards.replaceSubrange((shard * s)..<((shard + 1) * s), with: b!.shards[(shard * s)..<((shard + 1) * s)])
            repair.shardsFromOtherCopy.append(ShardPosition(copy: 0, shard: shard))
        }
        if let b, b.loaded == nil {
            for shard in badB.sorted() where !badA.contains(shard) {
                repair.shardsFromOtherCopy.append(ShardPosition(copy: 1, shard: shard))
            }
        }
        let erased = badA.intersection(badB).sorted()
        func result() -> Recovered {
            Recovered(
                index: index, shards: shards, dataLength: header.dataLength, isLast: header.isLast,
                header: header, repair: repair, checksumVerified: repair.lost.isEmpty)
        }
        if erased.isEmpty { return result() }

        let algorithm = descriptor.checksum
        let verifies = { (shards: [UInt8], shard: Int) in
            ShardChecksums.matches(shards, shard: shard, shardSize: s, table: table, algorithm: algorithm)
        }
        // Step 2: whole-shard erasures.
        if rebuildWhole(erased, in: &shards, repair: &repair, verifies: verifies) { return result() }

        // Step 3: column-wise decoding over both copies, in rounds (see `resolveColumnwise`).
        let unresolved = resolveColumnwise(erased, in: &shards, a: a, b: b, repair: &repair, verifies: verifies)
        for shard in unresolved {
            for copy in 0..<layout.copies {
                repair.lost.append(
                    LostShard(
                        copy: copy, stripe: index, shard: shard,
                        fileOffset: layout.shardOffset(copy: copy, stripe: index, shard: shard)))
            }
        }
        return result()
    }

    /// Whether copy `copy`'s record of stripe `index` reads back exactly as written: its
    /// header decodes without correction and every shard passes its checksum.
    /// Verify-after-write asks this of the copy it did not decrypt.
    package func isIntact(copy: Int, stripe index: UInt64) -> Bool {
        let read = read(copy: copy, stripe: index)
        guard let header = read.header, !read.headerCorrected, read.available == layout.stripeSize else { return false }
        return ShardChecksums.failing(
            read.shards, shardCount: layout.totalShards, shardSize: layout.shardSize,
            table: header.checksums, algorithm: descriptor.checksum
        ).isEmpty
    }

    /// Where the column values of the shards bad in both copies come from in one round.
    enum CandidateSource: CaseIterable {
        /// Where the copies agree, their byte; where they differ, an erasure for that
        /// column only (docs/FORMAT.md §10). Best when both copies carry sparse damage.
        case agreementWithErasures
        /// Like `agreementWithErasures`, but a byte inside a run of identical bytes
        /// (`suspectRunLength` or longer) is suspect: ciphertext and parity look
        /// random, so such a run in a shard that failed its checksum is a wiped or
        /// stuck region. A suspect byte yields to the other copy's byte, and is an
        /// erasure where both are suspect. This heals wrecked runs in both copies that
        /// overlap in part, with bit rot around them.
        case suspectRuns
        /// Copy B's bytes as unflagged candidates (copy A's where B is unreadable):
        /// errors-only decoding. Best when copy A's shard is wrecked (a zeroed or
        /// overwritten run) and copy B's carries only sparse damage; there every byte
        /// disagrees, so the first source would see more erasures than parity.
        case copyB
        /// Copy A's bytes as unflagged candidates: the mirror case.
        case copyA
    }

    /// Step 3 of the repair: recovers the shards `erased` (bad in both copies) column by
    /// column, in rounds. Each round fills the still-unresolved shards from one
    /// `CandidateSource`, runs errors-and-erasures decoding with every other shard
    /// trusted, and keeps the shards that now pass their checksum, which are trusted
    /// from then on. As soon as at most m shards remain they are rebuilt as whole-shard
    /// erasures. Rounds repeat while any makes progress, so damage mixing wrecked runs
    /// in one copy with sparse bit rot in the other (in either direction, in different
    /// shards) is healed as long as each round has a column budget to work with.
    ///
    /// Only checksum-verified shards are ever kept; returns the shards still bad.
    private func resolveColumnwise(
        _ erased: [Int], in shards: inout [UInt8], a: CopyRead, b: CopyRead?,
        repair: inout StripeRepair,
        verifies: (_ shards: [UInt8], _ shard: Int) -> Bool
    ) -> [Int] {
        let n = layout.totalShards
        let s = layout.shardSize
        var unresolved = erased
        var progress = true
        while progress && !unresolved.isEmpty {
            progress = false
            for source in CandidateSource.allCases where !unresolved.isEmpty {
                var working = shards
                var erasures: [Int: [Int]] = [:]
                for shard in unresolved {
                    fillCandidates(of: shard, into: &working, a: a, b: b, source: source, erasures: &erasures)
                }
                let trusted = Set(0..<n).subtracting(unresolved)
                guard
                    let report = try? code.correctColumns(
                        stripe: &working, shardLength: s, erasures: erasures,
                        trusted: trusted)
                else { continue }
                let fixed = unresolved.filter { verifies(working, $0) }
                guard !fixed.isEmpty else { continue }
                let fixedSet = Set(fixed)
                for shard in fixed {
                    shards.replaceSubrange(
                        (shard * s)..<((shard + 1) * s), with: working[(shard * s)..<((shard + 1) * s)])
                }
                repair.bytesCorrected += report.corrections.filter { fixedSet.contains($0.shard) }.count
                unresolved.removeAll { fixedSet.contains($0) }
                progress = true

                // Few enough left to rebuild whole, from shards that all verify.
                if !unresolved.isEmpty && rebuildWhole(unresolved, in: &shards, repair: &repair, verifies: verifies) {
                    unresolved = []
                }
            }
        }
        return unresolved
    }

    /// Rebuilds the shards `erased` as whole-shard erasures when there are at most m of
    /// them, and keeps the result only if every one then verifies; otherwise `shards`
    /// is left exactly as it was (its bad bytes are what the column decode compares).
    private func rebuildWhole(
        _ erased: [Int], in shards: inout [UInt8], repair: inout StripeRepair,
        verifies: (_ shards: [UInt8], _ shard: Int) -> Bool
    ) -> Bool {
        guard erased.count <= layout.parityShards else { return false }
        let s = layout.shardSize
        let saved = erased.map { Array(shards[($0 * s)..<(($0 + 1) * s)]) }
        if (try? code.reconstruct(stripe: &shards, shardLength: s, erased: erased)) != nil,
            erased.allSatisfy({ verifies(shards, $0) })
        {
            repair.shardsRebuilt.append(contentsOf: erased)
            return true
        }
        for (shard, bytes) in zip(erased, saved) {
            shards.replaceSubrange((shard * s)..<((shard + 1) * s), with: bytes)
        }
        return false
    }

    /// Fills shard `shard` of `shards`, which holds copy A's bytes of it on entry, with
    /// the candidate bytes `source` gives, and records the columns where its byte is an
    /// erasure (neither copy readable, or, for `.agreementWithErasures`, the copies
    /// disagree).
    private func fillCandidates(
        of shard: Int, into shards: inout [UInt8], a: CopyRead, b: CopyRead?,
        source: CandidateSource, erasures: inout [Int: [Int]]
    ) {
        let s = layout.shardSize
        let base = shard * s
        let shardRange = base..<(base + s)
        // One mask entry per column whatever the source; a copy that does not exist (a
        // single-copy backup) has no suspect bytes. (An empty mask for it, indexed per
        // column, trapped: issue 12.)
        let clean = [Bool](repeating: false, count: s)
        let suspectA = source == .suspectRuns ? Self.constantRuns(in: shards, shardRange) : clean
        let suspectB = source == .suspectRuns && b != nil ? Self.constantRuns(in: b!.shards, shardRange) : clean
        for column in 0..<s {
            let position = base + column
            var valueA: UInt8? = a.has(position, shardSize: s) ? shards[position] : nil
            var valueB: UInt8? = (b?.has(position, shardSize: s) ?? false) ? b!.shards[position] : nil
            let chosen: UInt8?
            switch source {
            case .agreementWithErasures, .suspectRuns:
                if source == .suspectRuns {
                    if suspectA[column] { valueA = nil }
                    if suspectB[column] { valueB = nil }
                }
                if let valueA, let valueB, valueA != valueB {
                    shards[position] = valueA
                    erasures[column, default: []].append(shard)
                    continue
                }
                chosen = valueA ?? valueB
            case .copyB:
                chosen = valueB ?? valueA
            case .copyA:
                chosen = valueA ?? valueB
            }
            if let chosen {
                shards[position] = chosen
            } else {
                erasures[column, default: []].append(shard)
            }
        }
    }

    /// Runs of identical bytes at least this long are suspect in a damaged shard: in
    /// random-looking data (ciphertext, parity) one starts at a given byte with
    /// probability 256^-15.
    static let suspectRunLength = 16

    /// For each byte of `bytes[range]`, whether it lies in a run of identical bytes of
    /// `suspectRunLength` or more.
    static func constantRuns(in bytes: [UInt8], _ range: Range<Int>) -> [Bool] {
        var mask = [Bool](repeating: false, count: range.count)
        var runStart = range.lowerBound
        for position in range.lowerBound...range.upperBound {
            if position == range.upperBound || bytes[position] != bytes[runStart] {
                if position - runStart >= suspectRunLength {
                    for i in runStart..<position { mask[i - range.lowerBound] = true }
                }
                runStart = position
            }
        }
        return mask
    }

    /// Both headers are gone: decode the stripe from both copies with Reed-Solomon
    /// alone. The result is usable only if it is a consistent codeword; it is not
    /// checksum-verified, so only GCM-authenticated plaintext may ever come of it.
    private func decodeWithoutHeader(
        _ index: UInt64, a: CopyRead, b: CopyRead?,
        repair: StripeRepair
    ) -> Recovered {
        var repair = repair
        repair.decodedWithoutHeader = true
        let n = layout.totalShards
        let s = layout.shardSize
        var decoded: [UInt8]?
        // Without checksums a source succeeds only if every column decodes into a
        // consistent codeword; the first that does is taken.
        // A copy read at a shift its neighbours gave is tried too (a shifted file).
        func variants(_ read: CopyRead) -> [CopyRead] {
            guard let alternate = read.alternate else { return [read] }
            var moved = read
            moved.shards = alternate
            moved.available = alternate.count
            moved.loaded = nil
            return [read, moved]
        }
        let variantsB: [CopyRead?] = b.map { variants($0).map(Optional.some) } ?? [nil]
        let pairs = variants(a).flatMap { a in variantsB.map { (a, $0) } }
        for (a, b) in pairs where decoded == nil {
            for source in CandidateSource.allCases where decoded == nil {
                var shards = a.shards
                var erasures: [Int: [Int]] = [:]
                for shard in 0..<n {
                    fillCandidates(of: shard, into: &shards, a: a, b: b, source: source, erasures: &erasures)
                }
                if let report = try? code.correctColumns(
                    stripe: &shards, shardLength: s, erasures: erasures, trusted: []),
                    report.failedColumns.isEmpty,
                    (try? code.isConsistent(stripe: shards, shardLength: s)) == true,
                    // All zeros is a codeword too, but never a stripe's ciphertext (a wiped
                    // region, or shards read at a shift past the data): not a decode.
                    shards.contains(where: { $0 != 0 })
                {
                    repair.bytesCorrected = report.corrections.count
                    decoded = shards
                }
            }
        }
        if decoded == nil {
            for shard in 0..<n {
                repair.lost.append(
                    LostShard(
                        copy: 0, stripe: index, shard: shard,
                        fileOffset: layout.shardOffset(copy: 0, stripe: index, shard: shard)))
            }
        }
        return Recovered(
            index: index, shards: decoded ?? a.shards, dataLength: layout.stripeDataCapacity,
            isLast: index + 1 == layout.stripeCount, header: nil, repair: repair, checksumVerified: false)
    }

    /// Reads copy `copy`'s record of stripe `index` (every shard, or only `shards`) and
    /// decodes its header; a record cut short by the end of the file or an I/O error
    /// reads as missing bytes. `recordAt`: where the record is read (its nominal offset
    /// unless a shift moved it).
    private func read(
        copy: Int, stripe index: UInt64, shards wanted: Set<Int>? = nil,
        recordAt: UInt64? = nil
    ) -> CopyRead {
        let offset = recordAt ?? layout.recordOffset(copy: copy, stripe: index)
        let shardsOffset = offset + UInt64(layout.headerSize)
        var headerBlock = [UInt8](repeating: 0, count: ProtectedBlock.size)
        var available = 0
        var loaded: Set<Int>?
        var header: StripeHeader?
        var corrected = false
        var shards = [UInt8](repeating: 0, count: layout.stripeSize)
        if offset < fileLength {
            let headerRead = (try? file.read(into: &headerBlock, range: 0..<headerBlock.count, at: offset)) ?? 0
            (available, loaded) = readShards(into: &shards, at: shardsOffset, wanted: wanted)
            if headerRead == headerBlock.count, let decoded = ProtectedBlock.decode(headerBlock),
                let parsed = try? StripeHeader(body: decoded.body),
                parsed.copy == copy, parsed.stripeIndex == index, parsed.descriptor == descriptor,
                parsed.isLast == (index + 1 == layout.stripeCount)
            {
                header = parsed
                corrected = decoded.correctedBytes > 0
            }
        } else if wanted != nil {
            loaded = []
        }
        return CopyRead(
            shards: shards, available: available, loaded: loaded, header: header,
            headerCorrected: corrected)
    }

    /// Reads a stripe's shards starting at `offset` (all, or only `wanted`): the bytes
    /// read from the start, or the shards read whole.
    private func readShards(
        into shards: inout [UInt8], at offset: UInt64, wanted: Set<Int>?
    )
        -> (available: Int, loaded: Set<Int>?)
    {
        guard let wanted else {
            return ((try? file.read(into: &shards, range: 0..<shards.count, at: offset)) ?? 0, nil)
        }
        let s = layout.shardSize
        return (
            0,
            Set(
                wanted.filter { shard in
                    let range = (shard * s)..<((shard + 1) * s)
                    return (try? file.read(into: &shards, range: range, at: offset + UInt64(range.lowerBound))) == s
                })
        )
    }

    /// Copy `copy`'s record of stripe `index` where it really is, when `current` (read at
    /// the nominal offset) lacks its header or has shards `failing` their checksum: the
    /// record is looked for at the offsets its anchors (`StripeAnchors`) and its
    /// neighbours' shifts give, each candidate's shards read at its own shift and, where
    /// one fails, at the next shift the neighbours give (a record that straddles the
    /// insertion or deletion). The candidate whose header belongs to this stripe and whose
    /// shards verify best is kept, if it beats `current`; at most
    /// `StripeAnchors.candidatesPerRecord` + 2 candidates, so the work stays linear.
    private func relocated(_ current: CopyRead, failing: [Int]?, copy: Int, stripe index: UInt64) -> CopyRead {
        let anchors = anchors.anchors
        guard !anchors.nothingShifted else { return current }
        let n = layout.totalShards
        let nominal = layout.recordOffset(copy: copy, stripe: index)
        let (before, after) = anchors.neighbourShifts(copy: copy, stripe: index)
        var offsets = anchors.records[copy][index] ?? []
        for shift in [before, after] {
            guard let offset = moved(nominal, by: shift) else { continue }
            if !offsets.contains(offset) { offsets.append(offset) }
        }
        var best = current
        var bestScore = failing.map { n - $0.count } ?? -1
        for offset in offsets {
            let shift = Int64(bitPattern: offset &- nominal)
            let other = [after, before].first { $0 != shift }
            if shift == 0 && other == nil { continue }  // what `current` already is
            var candidate = read(copy: copy, stripe: index, recordAt: offset)
            guard let table = candidate.header?.checksums else { continue }
            var verified = Set((0..<n).filter { verifies(candidate.shards, $0, table) })
            var shardShift = shift
            if verified.count < n, let other {
                let moved = shardsMoved(copy: copy, stripe: index, by: other).shards
                let s = layout.shardSize
                for shard in 0..<n where !verified.contains(shard) && verifies(moved, shard, table) {
                    candidate.shards.replaceSubrange(
                        (shard * s)..<((shard + 1) * s), with: moved[(shard * s)..<((shard + 1) * s)])
                    verified.insert(shard)
                    shardShift = other
                }
            }
            guard verified.count > bestScore else { continue }
            candidate.shift = ShiftedRecord(copy: copy, headerShift: shift, shardShift: shardShift)
            best = candidate
            bestScore = verified.count
            if bestScore == n { break }
        }
        // No header anywhere: the shards after a header the edit destroyed are at the
        // next record's shift (the header-less decode tries them too).
        if best.header == nil, let other = [after, before].first(where: { $0 != 0 }) {
            let moved = shardsMoved(copy: copy, stripe: index, by: other)
            if moved.complete { best.alternate = moved.shards }
        }
        return best
    }

    /// Stripe `index`'s shards of copy `copy` read `shift` bytes from their nominal place.
    private func shardsMoved(copy: Int, stripe index: UInt64, by shift: Int64) -> (shards: [UInt8], complete: Bool) {
        var shards = [UInt8](repeating: 0, count: layout.stripeSize)
        guard let offset = moved(layout.shardOffset(copy: copy, stripe: index, shard: 0), by: shift) else {
            return (shards, false)
        }
        let complete = readShards(into: &shards, at: offset, wanted: nil).available == layout.stripeSize
        return (shards, complete)
    }

    /// `offset` moved by `shift` bytes, if that is still inside the file (a shift taken
    /// from a hostile file's headers can point anywhere, before its start included).
    private func moved(_ offset: UInt64, by shift: Int64) -> UInt64? {
        guard let base = Int64(exactly: offset) else { return nil }
        let (target, overflow) = base.addingReportingOverflow(shift)
        guard !overflow, target >= 0, UInt64(target) < fileLength else { return nil }
        return UInt64(target)
    }

    private func verifies(_ shards: [UInt8], _ shard: Int, _ table: [UInt8]) -> Bool {
        ShardChecksums.matches(
            shards, shard: shard, shardSize: layout.shardSize, table: table,
            algorithm: descriptor.checksum)
    }
}
