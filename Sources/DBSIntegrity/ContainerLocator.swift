import DBSSystem

/// What a reader knows about a backup file before reading any stripe.
package struct LocatedContainer: Sendable {
    package var descriptor: BackupDescriptor
    package var layout: ContainerLayout
    package var fileLength: UInt64
    /// What most heads carrying the layout record; nil when no head survived, or the
    /// heads split evenly on it.
    package var ciphertextLength: UInt64?
    package var chunkCount: UInt64?
    /// Per head (0, 1, 2): intact, corrected, unreadable, or disagreeing with the
    /// descriptor, stripe count or stream end the other heads elect.
    package var heads: [HeadState]
    /// Per head, the head as decoded if it carries the elected descriptor and stripe
    /// count (its stream end is checked against the stream itself by the readers).
    package var decodedHeads: [Head?]
    /// No head was readable: the layout was derived from stripe headers found by scanning.
    package var fromScan: Bool

    /// The state of one of the three heads.
    package enum HeadState: String, Sendable, Codable, Equatable {
        case intact, corrected, unreadable, disagreeing
    }

    /// Heads that were not intact, for the repair report.
    package var damagedHeads: [Int] { heads.indices.filter { heads[$0] != .intact } }

    /// Heads that carry the layout but record a stream end other than the one the
    /// stream has (`finalEnd` after `chunks` sealed chunks): damaged, whatever the vote said.
    package func headsDisagreeing(finalEnd: UInt64, chunks: UInt64) -> [Int] {
        (0..<3).filter { index in
            guard let head = decodedHeads[index] else { return false }
            return head.ciphertextLength != finalEnd || head.chunkCount != chunks
        }
    }
}

/// Finds a container's layout: from any intact head (file start, file end, then the
/// start of copy B), else by scanning the file for stripe headers and deriving the
/// layout from the descriptor they replicate. Throws Integrity's own `ContainerError`.
package enum ContainerLocator {
    package static func locate(_ file: PositionedFile) throws(ContainerError) -> LocatedContainer {
        let fileLength: UInt64
        do { fileLength = try file.size() } catch { throw .io(error) }
        guard fileLength >= UInt64(ProtectedBlock.size) else {
            throw .notABackup("\(file.path) is \(fileLength) bytes, too short for a backup head")
        }
        var election = DescriptorElection(file: file, fileLength: fileLength)
        var firstError: FormatError?
        var candidates: [DescriptorElection.Candidate] = []
        for offset in [UInt64(0), fileLength - UInt64(ProtectedBlock.size)] {
            switch election.head(at: offset) {
            case .success(let (head, _)):
                candidates.append(.init(descriptor: head.descriptor, stripeCount: head.stripeCount))
            case .failure(let error):
                firstError = firstError ?? error
            }
        }
        if let elected = election.elect(candidates) {
            return DescriptorElection.located(elected, fileLength: fileLength, fromScan: false)
        }
        if candidates.isEmpty, case .unsupportedVersion(let version)? = firstError {
            throw .unsupportedVersion(version)
        }
        return try scan(file, fileLength: fileLength, election: &election, outvoted: !candidates.isEmpty)
    }

    /// A stripe header at `offset`, if one decodes there.
    package static func decodeStripeHeader(_ file: PositionedFile, at offset: UInt64) -> StripeHeader? {
        guard let block = try? file.read(count: ProtectedBlock.size, at: offset),
            let decoded = ProtectedBlock.decode(block)
        else { return nil }
        return try? StripeHeader(body: decoded.body)
    }

    /// No head at the file's ends was elected: search the file for the stripe-header and
    /// head magics, and put what is found to the vote: a head found anywhere, or the
    /// layout stripe headers give (the stripe count from a last-stripe header, a copy-B
    /// header, or the file length).
    private static func scan(
        _ file: PositionedFile, fileLength: UInt64, election: inout DescriptorElection,
        outvoted: Bool
    ) throws(ContainerError) -> LocatedContainer {
        var descriptor: BackupDescriptor?
        var stripeCount: UInt64?
        var highestIndex: UInt64 = 0
        var elected: DescriptorElection.Tally?
        var headCandidates: [DescriptorElection.Candidate] = []
        var scanner = LayoutScan(file: file, fileLength: fileLength)
        let any = scanner.forEach { found in
            switch found {
            case .head(let head, let offset):
                let candidate = DescriptorElection.Candidate(descriptor: head.descriptor, stripeCount: head.stripeCount)
                // Each distinct candidate is put to the vote once, and only a few of them.
                guard !headCandidates.contains(candidate), headCandidates.count < 8 else { return true }
                headCandidates.append(candidate)
                elected = election.elect([candidate], foundAt: offset)
                return elected == nil
            case .stripeHeader(let header, let offset):
                guard descriptor == nil || header.descriptor == descriptor,
                    let count = pinnedStripeCount(from: header, at: offset)
                else { return true }
                descriptor = header.descriptor
                highestIndex = max(highestIndex, header.stripeIndex)
                if let count {
                    stripeCount = count
                    return false
                }
                if let guess = stripeCountFromLength(header.descriptor, fileLength: fileLength),
                    guess > header.stripeIndex, confirms(&election, descriptor: header.descriptor, stripeCount: guess)
                {
                    stripeCount = guess
                    return false
                }
                return true
            }
        }
        if let elected { return DescriptorElection.located(elected, fileLength: fileLength, fromScan: true) }
        guard let descriptor else {
            if outvoted {
                throw .notABackup(
                    "\(file.path): its heads disagree with each other and with the stripe headers; "
                        + "no descriptor is carried by a majority")
            }
            if !any, fileLength > 2 * LayoutScan.probeLength {
                throw .notABackup(
                    "\(file.path): no DBS head or stripe header in its first and last "
                        + "\(LayoutScan.probeLength >> 20) MiB")
            }
            throw .notABackup("\(file.path): no readable head and no stripe header found")
        }
        let candidate = DescriptorElection.Candidate(
            descriptor: descriptor, stripeCount: stripeCount ?? highestIndex + 1)
        guard let elected = election.elect([candidate]) else {
            throw .notABackup(
                "\(file.path): the heads and stripe headers disagree; no descriptor is carried by a majority")
        }
        return DescriptorElection.located(elected, fileLength: fileLength, fromScan: true)
    }

    /// Checks that `header` sits where its layout puts it; returns `.some(count)` when
    /// it pins the stripe count (the last stripe of copy A, or any copy-B header),
    /// `.some(nil)` when it is consistent but says nothing about the count, and nil
    /// when it is not where it claims to be (a stray copy, a shifted file).
    private static func pinnedStripeCount(from header: StripeHeader, at offset: UInt64) -> UInt64?? {
        let probe = header.descriptor.layout(stripeCount: 0)
        let recordSize = UInt64(probe.recordSize)
        let headerSize = UInt64(probe.headerSize)
        guard header.stripeIndex < (UInt64(1) << 62) / recordSize else { return nil }
        let rel = header.stripeIndex * recordSize
        if header.copy == 0 {
            guard offset == headerSize + rel else { return nil }
            return .some(header.isLast ? header.stripeIndex + 1 : nil)
        }
        guard offset >= 2 * headerSize + rel else { return nil }
        let copyLength = offset - 2 * headerSize - rel
        guard copyLength % recordSize == 0, copyLength / recordSize > header.stripeIndex else { return nil }
        return .some(copyLength / recordSize)
    }

    /// The stripe count an undamaged, untruncated file of this length would have.
    private static func stripeCountFromLength(_ descriptor: BackupDescriptor, fileLength: UInt64) -> UInt64? {
        let probe = descriptor.layout(stripeCount: 0)
        let fixed = UInt64(3 * probe.headerSize)
        let per = UInt64(descriptor.copies * probe.recordSize)
        guard fileLength > fixed, (fileLength - fixed) % per == 0 else { return nil }
        return (fileLength - fixed) / per
    }

    /// Whether copy A's last stripe header agrees with `stripeCount` stripes.
    private static func confirms(
        _ election: inout DescriptorElection, descriptor: BackupDescriptor,
        stripeCount: UInt64
    ) -> Bool {
        let layout = descriptor.layout(stripeCount: stripeCount)
        for copy in 0..<descriptor.copies {
            if let header = election.stripeHeader(at: layout.recordOffset(copy: copy, stripe: stripeCount - 1)),
                header.isLast, header.stripeIndex == stripeCount - 1, header.descriptor == descriptor
            {
                return true
            }
        }
        return false
    }
}
