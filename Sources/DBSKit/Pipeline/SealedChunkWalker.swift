import DBSIntegrity
import DBSSecurity

/// Follows the clear prefixes of the ciphertext stream (no key needed) to find
/// the chunk count and where the final chunk ends, what a head records, and the first
/// structural defect a restore would refuse: a sealed length no chunk can have, a
/// stream without a final chunk or ending before the last stripe. The repairer
/// writes heads from it; the validator checks a stream with it as far as can be
/// checked without the key.
///
/// Why in Pipeline and not in Security: the sealed chunks are cut by the security layer's
/// codec (`SealedChunk.cut`, the routine the restore cuts with), but the walk is over
/// the container's stripes (the stream arrives stripe by stripe, a prefix may straddle
/// two, and the stream's end is judged against the layout's last stripe), and
/// Integrity sits above Security (its descriptor carries the KDF parameters): the walk
/// joins the two, as the pipeline does.
struct SealedChunkWalker {
    private(set) var sealedChunks: UInt64 = 0
    /// Stream offset just after the final sealed chunk, once seen.
    private(set) var finalEnd: UInt64?
    /// The first impossible prefix; the walk stops there.
    private(set) var defect: String?
    private let chunkSize: Int
    private var position: UInt64 = 0
    private var nextSealedChunk: UInt64 = 0
    /// The first bytes of a prefix the last slice ended in.
    private var carry: [UInt8] = []

    init(chunkSize: Int) { self.chunkSize = chunkSize }

    /// Walks the next `data.count` bytes of the stream; returns the sealed chunks whose prefix
    /// ended in them (`sealed` in stream offsets).
    @discardableResult
    mutating func consume(_ data: ArraySlice<UInt8>) -> [SealedChunk.Location] {
        var found: [SealedChunk.Location] = []
        var i = data.startIndex
        while i < data.endIndex, finalEnd == nil, defect == nil {
            let here = position + UInt64(i - data.startIndex)
            if here < nextSealedChunk {
                i += Int(min(nextSealedChunk - here, UInt64(data.endIndex - i)))
                continue
            }
            if carry.isEmpty && data.endIndex - i >= SealedChunk.prefixSize {
                cut(data, at: i, streamOffset: here, into: &found)
            } else {
                // A prefix split by the end of a slice: its bytes gathered, then cut alike.
                let start = here - UInt64(carry.count)
                let take = min(SealedChunk.prefixSize - carry.count, data.endIndex - i)
                carry.append(contentsOf: data[i..<(i + take)])
                i += take
                guard carry.count == SealedChunk.prefixSize else { break }
                let prefix = carry
                carry = []
                cut(prefix, at: 0, streamOffset: start, into: &found)
            }
        }
        position += UInt64(data.count)
        return found
    }

    /// Cuts the sealed chunk whose prefix (whole in `bytes`) starts at stream offset `start`.
    private mutating func cut<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, at index: Int, streamOffset start: UInt64, into found: inout [SealedChunk.Location]
    ) where Bytes.Index == Int {
        do {
            guard let sealedChunk = try SealedChunk.cut(bytes, at: index, index: sealedChunks, chunkSize: chunkSize)
            else { return }
            nextSealedChunk = start + UInt64(sealedChunk.end - index)
            let sealed = Int(start) + SealedChunk.prefixSize
            found.append(
                .init(index: sealedChunks, sealed: sealed..<Int(nextSealedChunk), isFinal: sealedChunk.isFinal))
            sealedChunks += 1
            if sealedChunk.isFinal { finalEnd = nextSealedChunk }
        } catch {
            defect = error.description
        }
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
        guard let finalEnd else { return "the ciphertext ends after chunk \(sealedChunks) without a final chunk" }
        return Self.endProblem(finalEnd: finalEnd, in: layout)
    }

    /// Whether a stream whose final sealed chunk ends at `finalEnd` fits the layout: it must end
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
