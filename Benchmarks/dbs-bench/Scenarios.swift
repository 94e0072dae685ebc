import DBSKit
import DBSSystem

/// Where things are in a backup file, from `BackupInspector.inspect` of the clean file.
struct Geometry {
    let fileLength: Int
    let copies: [(offset: Int, length: Int)]
    let recordSize: Int
    let headerSize: Int
    let shardSize: Int
    let totalShards: Int
    let stripeCount: Int

    init(_ info: BackupInfo) {
        fileLength = Int(info.fileLength)
        copies = info.copyExtents.map { (Int($0.offset), Int($0.length)) }
        recordSize = info.recordSize
        headerSize = info.headerSize
        shardSize = info.shardSize
        totalShards = info.dataShards + info.parityShards
        stripeCount = Int(info.stripeCount)
    }

    /// The three heads' regions: file start, start of copy B (just before it), file end.
    var heads: [(offset: Int, length: Int)] {
        var regions = [(0, headerSize)]
        if copies.count == 2 { regions.append((copies[1].offset - headerSize, headerSize)) }
        regions.append((fileLength - headerSize, headerSize))
        return regions
    }

    /// Offset, relative to a copy's start, of shard `shard` of stripe `stripe`.
    func shardOffset(stripe: Int, shard: Int) -> Int { stripe * recordSize + headerSize + shard * shardSize }
}

/// One kind of damage at one level, applied to a fresh copy of the clean file's bytes.
/// The Python seed's outcome on the same damage is stated where it is known.
struct Scenario {
    /// The row of the outcome grid: "bit flips, both copies", "truncation"...
    let kind: String
    /// The column: "1e-6", "64 KiB (16 shards)"...
    let level: String
    /// What django-dbs 0.1 does with this damage, or nil when not known.
    let seed: String?
    /// Damages `bytes` (the whole file) and says what it did.
    let apply: (inout [UInt8], Geometry, inout SplitMix64) -> String

    var name: String { "\(kind): \(level)" }

    static var all: [Scenario] {
        var list: [Scenario] = []
        let seedFlips = ["1e-7": "healed", "1e-6": "healed", "1e-5": "2/3 refused (manifest)", "1e-4": nil]
        for (label, rate) in [("1e-7", 1e-7), ("1e-6", 1e-6), ("1e-5", 1e-5), ("1e-4", 1e-4)] {
            list.append(
                Scenario(kind: "bit flips, both copies", level: label, seed: seedFlips[label] ?? nil) { bytes, g, rng in
                    let flips = g.copies.reduce(0) {
                        $0 + Damage.flipBits(&bytes, $1.offset, $1.length, rate: rate, &rng)
                    }
                    return "\(flips) bits flipped"
                })
        }
        for length in [4 << 10, 64 << 10, 1 << 20] {
            // Copy A: the reader reads it first, so the damage is met and healed from B.
            list.append(
                Scenario(kind: "zeroed run, copy A", level: formatBytes(length), seed: "healed") { bytes, g, rng in
                    let copy = g.copies[0]
                    let at = copy.offset + Int(rng.next() % UInt64(max(1, copy.length - length)))
                    Damage.fill(&bytes, at, length, with: nil, &rng)
                    return "\(formatBytes(length)) zeroed at \(at)"
                })
        }
        for shards in [1, 16, 17] {
            let length = shards * 4096
            let level = "\(formatBytes(length)) (\(shards) shard\(shards == 1 ? "" : "s"))"
            list.append(
                Scenario(kind: "zeroed run, same place in both copies", level: level, seed: "lost (refused)") {
                    bytes, g, rng in
                    let count = length / g.shardSize
                    let stripe = Int(rng.next() % UInt64(g.stripeCount))
                    let shard = Int(rng.next() % UInt64(g.totalShards - count + 1))
                    let relative = g.shardOffset(stripe: stripe, shard: shard)
                    for copy in g.copies { Damage.fill(&bytes, copy.offset + relative, length, with: nil, &rng) }
                    return "shards \(shard)..<\(shard + count) of stripe \(stripe) zeroed in both copies"
                })
        }
        list.append(
            Scenario(kind: "random-byte runs", level: "8 x 4 KiB per copy", seed: "healed") { bytes, g, rng in
                for copy in g.copies {
                    for _ in 0..<8 {
                        let at = copy.offset + Int(rng.next() % UInt64(copy.length - 4096))
                        Damage.fill(&bytes, at, 4096, with: .random, &rng)
                    }
                }
                return "8 random 4 KiB runs in each copy, unaligned"
            })
        list.append(
            Scenario(kind: "random-byte runs", level: "1 MiB, copy A", seed: "healed") { bytes, g, rng in
                let copy = g.copies[0]
                let at = copy.offset + Int(rng.next() % UInt64(max(1, copy.length - (1 << 20))))
                Damage.fill(&bytes, at, 1 << 20, with: .random, &rng)
                return "1 MiB of random bytes at \(at)"
            })
        list.append(
            Scenario(kind: "heads", level: "head at the file start", seed: nil) { bytes, g, rng in
                Damage.fill(&bytes, 0, g.headerSize, with: .random, &rng)
                return "head #0 overwritten"
            })
        list.append(
            Scenario(kind: "heads", level: "every head", seed: nil) { bytes, g, rng in
                for head in g.heads { Damage.fill(&bytes, head.offset, head.length, with: .random, &rng) }
                return "\(g.heads.count) heads overwritten"
            })
        list.append(
            Scenario(kind: "stripe headers", level: "all, copy A", seed: nil) { bytes, g, rng in
                for stripe in 0..<g.stripeCount {
                    Damage.fill(&bytes, g.copies[0].offset + stripe * g.recordSize, g.headerSize, with: .random, &rng)
                }
                return "\(g.stripeCount) stripe headers overwritten"
            })
        list.append(
            Scenario(kind: "stripe headers", level: "all, both copies", seed: nil) { bytes, g, rng in
                for copy in g.copies {
                    for stripe in 0..<g.stripeCount {
                        Damage.fill(&bytes, copy.offset + stripe * g.recordSize, g.headerSize, with: .random, &rng)
                    }
                }
                return "\(g.stripeCount * g.copies.count) stripe headers overwritten"
            })
        for fraction in [10, 40, 60] {
            list.append(
                Scenario(kind: "truncation", level: "to \(fraction)%", seed: "refused") { bytes, g, _ in
                    bytes.removeLast(bytes.count - bytes.count * fraction / 100)
                    return "truncated to \(bytes.count) bytes"
                })
        }
        list.append(
            Scenario(kind: "copy B removed", level: "file ends after head #1", seed: "refused") { bytes, g, _ in
                guard g.copies.count == 2 else { return "no copy B" }
                bytes.removeLast(bytes.count - g.copies[1].offset)
                return "truncated to \(bytes.count) bytes"
            })
        return list
    }
}

/// The ways `scripts/damage.py` damages a file, on bytes in memory.
enum Damage {
    enum Fill { case random }

    /// Flips each bit of `bytes[start..<start+length]` with probability `rate`,
    /// drawing the gap to the next flip from the geometric distribution (so a low
    /// rate over a large file costs one draw per flip). Returns the flips made.
    static func flipBits(
        _ bytes: inout [UInt8], _ start: Int, _ length: Int, rate: Double,
        _ rng: inout SplitMix64
    ) -> Int {
        guard rate > 0, length > 0 else { return 0 }
        let logQ = log1p(-rate)
        let totalBits = length * 8
        var bit = -1
        var flips = 0
        while true {
            let uniform = Double(rng.next() >> 11) / Double(1 << 53)
            bit += Int(log(1 - uniform) / logQ) + 1
            if bit >= totalBits { return flips }
            bytes[start + bit / 8] ^= UInt8(1) << (bit % 8)
            flips += 1
        }
    }

    /// Overwrites `bytes[start..<start+length]` (clipped to the file) with zeros
    /// (`fill` nil) or random bytes.
    static func fill(_ bytes: inout [UInt8], _ start: Int, _ length: Int, with fill: Fill?, _ rng: inout SplitMix64) {
        let end = min(bytes.count, start + length)
        guard start < end else { return }
        for i in start..<end {
            bytes[i] = fill == nil ? 0 : UInt8(truncatingIfNeeded: rng.next())
        }
    }
}
