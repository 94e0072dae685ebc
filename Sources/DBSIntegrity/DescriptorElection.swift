import DBSSystem

/// Which descriptor and stripe count a file really carries, by a vote over the replicas
/// of its metadata (docs/FORMAT.md, "Finding the layout").
///
/// Any one head can lie: another backup's head copied over it, or one field changed and
/// its checksum recomputed. Trusting the first head that decodes let such a head
/// override every intact one, and `repair` then wrote it into every header (issue 12).
/// So a candidate layout (descriptor + stripe count, from a head or from the stripe
/// headers) is put to the heads at their places for it and to a sample of stripe
/// headers at the places its layout gives them: each block that decodes there votes
/// for it (same descriptor and stripe count, a stripe header also its copy, index and
/// last flag) or against it (anything else that decodes). A candidate is adopted only
/// with more votes for than against and a margin no other candidate reaches; heads that
/// disagree with it are reported as damaged and never used.
struct DescriptorElection {
    let file: PositionedFile
    let fileLength: UInt64
    /// Blocks decoded so far, by offset (each candidate looks at some of the same places).
    private var blocks: [UInt64: ProtectedBlock.Decoded?] = [:]

    init(file: PositionedFile, fileLength: UInt64) {
        self.file = file
        self.fileLength = fileLength
    }

    /// A layout a reader could adopt.
    struct Candidate: Equatable {
        var descriptor: BackupDescriptor
        var stripeCount: UInt64
        var layout: ContainerLayout { descriptor.layout(stripeCount: stripeCount) }
    }

    /// One candidate's votes.
    struct Tally {
        var candidate: Candidate
        var support = 0
        var opposition = 0
        /// The heads (by index 0, 1, 2) that carry the candidate, and whether each
        /// needed correction.
        var heads: [Int: (head: Head, corrected: Bool)] = [:]
        /// Heads that decode at their place for the candidate but carry something else.
        var dissenting: Set<Int> = []
        /// Copy A's (else copy B's) header of the last stripe, if it voted for the candidate.
        var lastHeader: StripeHeader?
        var margin: Int { support - opposition }
    }

    /// Where head `index` sits for `layout`: head #0 at the start of the file, head #1
    /// after copy A, head #2 in the last 8192 bytes of the file.
    func headOffset(_ index: Int, layout: ContainerLayout) -> UInt64 {
        switch index {
        case 0: return 0
        case 1: return layout.headBlockOffset(1)
        default: return fileLength - UInt64(ProtectedBlock.size)
        }
    }

    /// The head at `offset`, if a head decodes there (and whether it needed correction).
    mutating func head(at offset: UInt64) -> Result<(Head, Bool), FormatError> {
        guard let decoded = block(at: offset) else { return .failure(.invalidField("head block")) }
        do {
            return .success((try Head(body: decoded.body), decoded.correctedBytes > 0))
        } catch {
            return .failure(error)
        }
    }

    /// The stripe header at `offset`, if one decodes there.
    mutating func stripeHeader(at offset: UInt64) -> StripeHeader? {
        guard let decoded = block(at: offset) else { return nil }
        return try? StripeHeader(body: decoded.body)
    }

    private mutating func block(at offset: UInt64) -> ProtectedBlock.Decoded? {
        if let cached = blocks[offset] { return cached }
        var decoded: ProtectedBlock.Decoded?
        if offset <= fileLength, fileLength - offset >= UInt64(ProtectedBlock.size),
            let bytes = try? file.read(count: ProtectedBlock.size, at: offset)
        {
            decoded = ProtectedBlock.decode(bytes)
        }
        blocks[offset] = decoded
        return decoded
    }

    /// The stripes whose headers vote: the first, the middle and the last, in every copy.
    static func sampledStripes(_ stripeCount: UInt64) -> [UInt64] {
        guard stripeCount > 0 else { return [] }
        return Array(Set([0, stripeCount / 2, stripeCount - 1])).sorted()
    }

    mutating func tally(_ candidate: Candidate) -> Tally {
        var tally = Tally(candidate: candidate)
        let layout = candidate.layout
        for index in 0..<3 {
            guard case .success(let (found, corrected)) = head(at: headOffset(index, layout: layout)) else { continue }
            if found.descriptor == candidate.descriptor && found.stripeCount == candidate.stripeCount {
                tally.support += 1
                tally.heads[index] = (found, corrected)
            } else {
                tally.opposition += 1
                tally.dissenting.insert(index)
            }
        }
        for copy in 0..<candidate.descriptor.copies {
            for stripe in Self.sampledStripes(candidate.stripeCount) {
                guard let header = stripeHeader(at: layout.recordOffset(copy: copy, stripe: stripe)) else { continue }
                let isLast = stripe + 1 == candidate.stripeCount
                if header.descriptor == candidate.descriptor, header.copy == copy, header.stripeIndex == stripe,
                    header.isLast == isLast
                {
                    tally.support += 1
                    if isLast && tally.lastHeader == nil { tally.lastHeader = header }
                } else {
                    tally.opposition += 1
                }
            }
        }
        return tally
    }

    /// The candidate the file's metadata elects, or nil when none has a majority (more
    /// votes for than against, and a margin no other candidate has).
    ///
    /// `foundAt`: where the scan found the head a candidate came from; a head found off
    /// its places (a shifted file) votes for its own candidate once.
    mutating func elect(_ candidates: [Candidate], foundAt: UInt64? = nil) -> Tally? {
        var unique: [Candidate] = []
        for candidate in candidates where !unique.contains(candidate) { unique.append(candidate) }
        let tallies = unique.map { candidate in
            var tally = tally(candidate)
            if let foundAt, !(0..<3).contains(where: { headOffset($0, layout: candidate.layout) == foundAt }) {
                tally.support += 1
            }
            return tally
        }
        guard let best = tallies.max(by: { $0.margin < $1.margin }), best.margin > 0,
            tallies.filter({ $0.margin == best.margin }).count == 1
        else { return nil }
        return best
    }

    /// The stream length and chunk count of the elected layout: the pair most of its
    /// heads record, a head's pair counting once more when the last stripe header's data
    /// length agrees with its stream length. nil when the heads split evenly (the stream
    /// is self-delimiting and GCM-authenticated; the validator and the restore then
    /// judge each head by the stream itself).
    static func streamEnd(of tally: Tally) -> (ciphertextLength: UInt64, chunkCount: UInt64)? {
        let layout = tally.candidate.layout
        var votes: [(pair: (UInt64, UInt64), count: Int)] = []
        for index in tally.heads.keys.sorted() {
            let head = tally.heads[index]!.head
            let pair = (head.ciphertextLength, head.chunkCount)
            if let at = votes.firstIndex(where: { $0.pair == pair }) {
                votes[at].count += 1
            } else {
                let fitsLastStripe =
                    tally.lastHeader.map {
                        (layout.stripeCount - 1) * UInt64(layout.stripeDataCapacity) + UInt64($0.dataLength)
                            == head.ciphertextLength
                    } ?? false
                votes.append((pair, fitsLastStripe ? 2 : 1))
            }
        }
        guard let best = votes.max(by: { $0.count < $1.count }),
            votes.filter({ $0.count == best.count }).count == 1
        else { return nil }
        return best.pair
    }

    /// The located container for an elected tally.
    static func located(_ tally: Tally, fileLength: UInt64, fromScan: Bool) -> LocatedContainer {
        let end = streamEnd(of: tally)
        let states = (0..<3).map { index -> LocatedContainer.HeadState in
            if tally.dissenting.contains(index) { return .disagreeing }
            guard let (head, corrected) = tally.heads[index] else { return .unreadable }
            if let end, (head.ciphertextLength, head.chunkCount) != end { return .disagreeing }
            return corrected ? .corrected : .intact
        }
        return LocatedContainer(
            descriptor: tally.candidate.descriptor, layout: tally.candidate.layout,
            fileLength: fileLength, ciphertextLength: end?.ciphertextLength,
            chunkCount: end?.chunkCount, heads: states,
            decodedHeads: (0..<3).map { tally.heads[$0]?.head }, fromScan: fromScan)
    }
}
