/// SplitMix64: a small seeded generator, so that every property, damage and
/// end-to-end test replays exactly the same data and damage on every run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// `count` random bytes, eight at a time.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: next()) { out.append(contentsOf: $0) } }
        out.removeLast(out.count - count)
        return out
    }

    /// `count` bytes of word-like text: compressible, like documents and logs.
    public mutating func text(_ count: Int) -> [UInt8] {
        let words = ["stripe ", "parity ", "shard ", "copy ", "heal ", "sector ", "verify "]
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count { out.append(contentsOf: words[Int(next() % UInt64(words.count))].utf8) }
        out.removeLast(out.count - count)
        return out
    }

    /// `count` distinct values from `range`, in random order.
    public mutating func distinct(_ count: Int, from range: Range<Int>) -> [Int] {
        Array(range.shuffled(using: &self).prefix(count))
    }

    /// A non-zero byte (a real error changes the byte).
    public mutating func nonZero() -> UInt8 { UInt8.random(in: 1...255, using: &self) }
}
