import DBSSystem

/// The search for heads and stripe headers anywhere in a file, when no head at its ends
/// is elected: linear in the file size with a small constant, whatever the file holds.
///
/// A file of `DBS-STRP` repeated made the old scan run a full error-correcting decode of
/// an 8 KiB block at every 8th byte: 1.7 s for 16 KiB, minutes per MiB (issue 12). Now a
/// magic is only a candidate if the fields right after it are in bounds (read in place,
/// nothing copied: a period shorter than the header's fixed fields cannot pass), a
/// candidate is checked by its checksum alone, from the window already in memory, and
/// only `correctionBudget` candidates per file get the error-correcting decode. A file
/// whose first and last `probeLength` bytes hold no candidate at all is not a backup,
/// refused without reading the rest.
struct LayoutScan {
    /// Where a candidate sits and what it is. Indirect: as a two-payload enum inline, its
    /// outlined destroy tested tag bits in payload bytes a `nil` or the smaller case never
    /// writes (valgrind: "conditional jump depends on uninitialised value"); boxed, the
    /// tag is in a pointer's spare bits, always written. One allocation per found block.
    indirect enum Found {
        case head(Head, offset: UInt64)
        case stripeHeader(StripeHeader, offset: UInt64)
    }

    static let window = 4 << 20
    /// Full decodes (error correction) of candidates whose checksum fails, per file.
    static let correctionBudget = 4
    /// How much of each end of the file is probed before the rest is scanned.
    static let probeLength: UInt64 = 64 << 20

    let file: PositionedFile
    let fileLength: UInt64
    private var corrections = 0

    init(file: PositionedFile, fileLength: UInt64) {
        self.file = file
        self.fileLength = fileLength
    }

    /// Calls `visit` with every head and stripe header found until it returns false:
    /// the first and the last `probeLength` bytes, then (only if those held a candidate)
    /// the rest. Returns false when nothing was found at all.
    @discardableResult
    mutating func forEach<E: Error>(_ visit: (Found) throws(E) -> Bool) throws(E) -> Bool {
        var found = false
        var stopped = false
        let probe = Self.probeLength
        var ranges: [Range<UInt64>] = [0..<fileLength]
        if fileLength > 2 * probe {
            ranges = [0..<probe, (fileLength - probe)..<fileLength, probe..<(fileLength - probe)]
        }
        for (number, range) in ranges.enumerated() {
            if number == 2 && !found { return false }
            try scan(range) { candidate throws(E) in
                found = true
                stopped = try !visit(candidate)
                return !stopped
            }
            if stopped { break }
        }
        return found
    }

    /// Scans `range` window by window (each read with 8 KiB beyond it, so a block that
    /// starts inside the window is in memory whole).
    private mutating func scan<E: Error>(_ range: Range<UInt64>, _ visit: (Found) throws(E) -> Bool) throws(E) {
        var position = range.lowerBound
        while position < range.upperBound {
            let count = Int(min(UInt64(Self.window), range.upperBound - position))
            guard let bytes = try? file.read(count: count + ProtectedBlock.size, at: position), bytes.count >= 8 else {
                return
            }
            var i = 0
            let end = min(count, bytes.count - 7)
            while let at = Self.nextD(in: bytes, from: i, to: end) {
                // "DBS-", then version 1 (bytes 8, 9): a repeated magic fails here, in a
                // few comparisons.
                if bytes[at + 1] == 0x42, bytes[at + 2] == 0x53, bytes[at + 3] == 0x2D,
                    at + 10 <= bytes.count, bytes[at + 8] == 1, bytes[at + 9] == 0,
                    let found = candidate(in: bytes, at: at, offset: position + UInt64(at)),
                    try !visit(found)
                {
                    return
                }
                i = at + 1
            }
            position += UInt64(count)
        }
    }

    /// The index of the next "D" (the first byte of both magics) in `bytes[from..<to]`:
    /// memchr, several bytes per cycle, so that a file without one costs a read.
    static func nextD(in bytes: [UInt8], from: Int, to: Int) -> Int? {
        guard from < to else { return nil }
        return bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, let hit = memchr(base + from, 0x44, to - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    /// The head or stripe header at `at`, if one is there: plausible fields in place,
    /// then the checksum (then, within the budget, error correction).
    private mutating func candidate(in bytes: [UInt8], at i: Int, offset: UInt64) -> Found? {
        guard bytes.count - i >= ProtectedBlock.size else { return nil }
        let isHead = bytes[i..<(i + 8)].elementsEqual(Head.magic)
        guard isHead || bytes[i..<(i + 8)].elementsEqual(StripeHeader.magic),
            Self.plausible(bytes, at: i, head: isHead)
        else { return nil }
        let block = bytes[i..<(i + ProtectedBlock.size)]
        var body = ProtectedBlock.verifiedBody(block)
        if body == nil && corrections < Self.correctionBudget {
            corrections += 1
            body = ProtectedBlock.decode(Array(block))?.body
        }
        guard let body else { return nil }
        if isHead {
            return (try? Head(body: body)).map { .head($0, offset: offset) }
        }
        return (try? StripeHeader(body: body)).map { .stripeHeader($0, offset: offset) }
    }

    /// The fixed fields after a magic at `i` are in bounds (read in place): version 1,
    /// the head index or copy and flags, and the descriptor's shape and codes.
    static func plausible(_ bytes: [UInt8], at i: Int, head: Bool) -> Bool {
        func u16(_ at: Int) -> Int { Int(bytes[i + at]) | Int(bytes[i + at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard u16(8) == Int(FormatVersion.current) else { return false }
        let descriptor: Int
        if head {
            guard bytes[i + 10] <= 2, bytes[i + 11] == 0 else { return false }
            descriptor = 12
        } else {
            guard bytes[i + 10] <= 1, bytes[i + 11] <= 1, u32(20) <= 255 * 65536 else { return false }
            descriptor = 24
        }
        let copies = bytes[i + descriptor + 119]
        let k = u16(descriptor + 120)
        let m = u16(descriptor + 122)
        return (copies == 1 || copies == 2) && bytes[i + descriptor + 116] <= 1
            && (bytes[i + descriptor + 118] == 1 || bytes[i + descriptor + 118] == 2)
            && k >= 1 && m >= 1 && k + m <= 255
            && BackupDescriptor.shardSizeLimits.contains(u32(descriptor + 124))
            && BackupDescriptor.chunkSizeLimits.contains(u32(descriptor + 112))
    }
}
