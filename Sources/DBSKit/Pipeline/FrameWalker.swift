/// Follows the clear frame prefixes of the ciphertext stream (no key needed) to find
/// the chunk count and where the final chunk ends, what a head records, and the first
/// structural defect a restore would refuse: a sealed length no chunk can have, a
/// stream without a final chunk or ending before the last stripe. The repairer
/// writes heads from it; the validator checks a stream with it as far as can be
/// checked without the key.
struct FrameWalker {
    private(set) var frames: UInt64 = 0
    /// Stream offset just after the final frame, once seen.
    private(set) var finalEnd: UInt64?
    /// The first impossible frame prefix; the walk stops there.
    private(set) var defect: String?
    private let chunkSize: Int
    private var position: UInt64 = 0
    private var nextFrame: UInt64 = 0
    private var prefix: [UInt8] = []

    init(chunkSize: Int) { self.chunkSize = chunkSize }

    mutating func consume(_ data: ArraySlice<UInt8>) {
        var i = data.startIndex
        while i < data.endIndex, finalEnd == nil, defect == nil {
            let here = position + UInt64(i - data.startIndex)
            if here < nextFrame {
                i += Int(min(nextFrame - here, UInt64(data.endIndex - i)))
                continue
            }
            prefix.append(data[i])
            i += 1
            if prefix.count == ChunkFrame.prefixSize {
                let (length, isFinal) = ChunkFrame.parsePrefix(prefix)
                prefix.removeAll()
                if let why = ChunkFrame.impossibleLength(length, chunk: frames, chunkSize: chunkSize) {
                    defect = why
                    return
                }
                nextFrame = here + 1 + UInt64(length)
                frames += 1
                if isFinal { finalEnd = nextFrame }
            }
        }
        position += UInt64(data.count)
    }

    /// The ciphertext bytes in stripe `index` (for a stripe whose header was lost).
    func dataLength(inStripe index: UInt64, capacity: Int) -> Int {
        guard let finalEnd else { return capacity }
        let start = index * UInt64(capacity)
        return Int(min(UInt64(capacity), finalEnd > start ? finalEnd - start : 0))
    }

    /// After every stripe was consumed: why a restore of this stream would refuse it
    /// (nil: it would not, as far as the clear prefixes tell).
    func problem(in layout: ContainerLayout) -> String? {
        if let defect { return defect }
        guard let finalEnd else { return "the ciphertext ends after chunk \(frames) without a final chunk" }
        return Self.endProblem(finalEnd: finalEnd, in: layout)
    }

    /// Whether a stream whose final frame ends at `finalEnd` fits the layout: it must end
    /// in the last stripe (what follows it there is zero padding). Shared by the
    /// restore. A head recording another end is a damaged head, not a damaged stream:
    /// the final chunk's GCM tag binds its final flag, so the stream cannot be cut
    /// short or extended unnoticed (`LocatedContainer.headsDisagreeing`).
    static func endProblem(finalEnd: UInt64, in layout: ContainerLayout) -> String? {
        let capacity = UInt64(layout.stripeDataCapacity)
        guard layout.stripeCount > 0, finalEnd > (layout.stripeCount - 1) * capacity else {
            let stripe = finalEnd == 0 ? 0 : (finalEnd - 1) / capacity
            return "the final chunk ends in stripe \(stripe) of \(layout.stripeCount)"
        }
        return nil
    }
}
