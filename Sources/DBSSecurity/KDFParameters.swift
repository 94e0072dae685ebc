/// The Argon2id cost parameters, stored in the head of every backup.
///
/// A reader takes them from a file it cannot yet authenticate (the key they derive is
/// what authenticates the file), so a hostile or damaged head could ask for a terabyte
/// of memory or a billion passes. `validated()` enforces `limits` before any work is
/// done, and `Argon2id.deriveKey` always calls it, on writing and on reading.
public struct KDFParameters: Sendable, Equatable, Codable {
    /// Passes over memory (Argon2 `t`).
    public var timeCost: UInt32
    /// Memory in KiB (Argon2 `m`).
    public var memoryKiB: UInt32
    /// Lanes, each computed by its own thread (Argon2 `p`).
    public var parallelism: UInt32

    public init(timeCost: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
        self.timeCost = timeCost
        self.memoryKiB = memoryKiB
        self.parallelism = parallelism
    }

    /// t = 3, m = 64 MiB, p = 4: RFC 9106's second recommended option with more passes.
    public static let `default` = KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: 4)

    /// The bounds `validated()` enforces.
    public struct Limits: Sendable {
        /// Passes: at least one; 64 is far beyond any sensible cost.
        public let timeCost: ClosedRange<UInt32>
        /// Lanes: Argon2 allows up to 2^24 - 1, but each costs a thread.
        public let parallelism: ClosedRange<UInt32>
        /// Argon2 needs at least 8 KiB per lane (two blocks in each of four slices).
        public let minimumMemoryKiBPerLane: UInt32
        /// 4 GiB: the most a backup may demand of the machine that restores it.
        public let maximumMemoryKiB: UInt32

        /// The memory bounds for `parallelism` lanes.
        public func memoryKiB(parallelism: UInt32) -> ClosedRange<UInt32> {
            let minimum = min(
                parallelism.multipliedReportingOverflow(by: minimumMemoryKiBPerLane).partialValue,
                maximumMemoryKiB)
            return minimum...maximumMemoryKiB
        }
    }

    public static let limits = Limits(
        timeCost: 1...64,
        parallelism: 1...64,
        minimumMemoryKiBPerLane: 8,
        maximumMemoryKiB: 4_194_304
    )

    /// `self` if every parameter is within `limits`; otherwise an error naming the
    /// first parameter out of bounds, its value and the bound.
    public func validated() throws(SecurityError) -> KDFParameters {
        let limits = Self.limits
        guard limits.timeCost.contains(timeCost) else {
            throw .kdfParametersOutOfBounds("timeCost \(timeCost) is outside \(limits.timeCost)")
        }
        guard limits.parallelism.contains(parallelism) else {
            throw .kdfParametersOutOfBounds("parallelism \(parallelism) is outside \(limits.parallelism)")
        }
        let memory = limits.memoryKiB(parallelism: parallelism)
        guard memory.contains(memoryKiB) else {
            throw .kdfParametersOutOfBounds(
                "memoryKiB \(memoryKiB) is outside \(memory) (at least \(limits.minimumMemoryKiBPerLane) KiB per lane "
                    + "for parallelism \(parallelism), at most \(limits.maximumMemoryKiB) KiB)")
        }
        return self
    }
}

extension KDFParameters {
    /// Length of the serialized form.
    package static let serializedLength = 12

    /// timeCost, memoryKiB, parallelism, each a big-endian `UInt32`.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.serializedLength)
        for value in [timeCost, memoryKiB, parallelism] {
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Parses the serialized form and validates it: what a reader of a head calls.
    public init(bytes: some Collection<UInt8>) throws(SecurityError) {
        guard bytes.count == Self.serializedLength else {
            throw .invalidInput("KDF parameters are \(Self.serializedLength) bytes, got \(bytes.count)")
        }
        let b = Array(bytes)
        func word(_ at: Int) -> UInt32 { b[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        self = try KDFParameters(timeCost: word(0), memoryKiB: word(4), parallelism: word(8)).validated()
    }
}
