/// A shard that no repair could make pass its checksum: where it is, so a user can
/// map it to the failing medium.
public struct LostShard: Sendable, Codable, Equatable, CustomStringConvertible {
    /// 0 = copy A, 1 = copy B.
    public var copy: Int
    public var stripe: UInt64
    public var shard: Int
    /// Offset of the shard in the file.
    public var fileOffset: UInt64

    public init(copy: Int, stripe: UInt64, shard: Int, fileOffset: UInt64) {
        self.copy = copy
        self.stripe = stripe
        self.shard = shard
        self.fileOffset = fileOffset
    }

    public var description: String {
        "copy \(copy == 0 ? "A" : "B") stripe \(stripe) shard \(shard) at offset \(fileOffset)"
    }
}

/// What happened to one stripe that was not clean.
public struct StripeRepair: Sendable, Codable, Equatable {
    public var stripe: UInt64
    /// Shards that failed their checksum in one copy and were taken from the other
    /// copy, as (copy that was bad, shard).
    public var shardsFromOtherCopy: [ShardPosition] = []
    /// Whole shards rebuilt by Reed-Solomon erasure decoding.
    public var shardsRebuilt: [Int] = []
    /// Bytes changed by the column-wise errors-and-erasures decode.
    public var bytesCorrected: Int = 0
    /// Copies (0 = A, 1 = B) whose stripe header needed its own error correction or
    /// was unreadable and is restored from the other copy or the geometry.
    public var headersRepaired: [Int] = []
    /// Both stripe headers were unreadable: the stripe was decoded by Reed-Solomon
    /// alone and authenticated by the payload's GCM tags.
    public var decodedWithoutHeader: Bool = false
    /// Every shard passed its checksum but the stripe is not a Reed-Solomon codeword
    /// (parity written wrong, or shards replaced together with their checksums):
    /// repair recomputes the parity from the verified data.
    public var parityInconsistent: Bool = false
    /// Shards that still fail their checksum: the stripe is lost.
    public var lost: [LostShard] = []
    /// Copies whose record of this stripe was found off its nominal offset (bytes
    /// inserted or dropped before it): `repair` writes it back at its place.
    public var shifted: [ShiftedRecord] = []

    public init(stripe: UInt64) { self.stripe = stripe }

    /// Nothing was damaged.
    public var isClean: Bool {
        shardsFromOtherCopy.isEmpty && shardsRebuilt.isEmpty && bytesCorrected == 0 && headersRepaired.isEmpty
            && !decodedWithoutHeader && !parityInconsistent && lost.isEmpty && shifted.isEmpty
    }
}

/// One copy's record of a stripe, found shifted: its header `headerShift` bytes from
/// its nominal offset, and (a record straddling the insertion or deletion) some of its
/// shards at `shardShift`, the next record's shift.
public struct ShiftedRecord: Sendable, Codable, Equatable {
    /// 0 = copy A, 1 = copy B.
    public var copy: Int
    public var headerShift: Int64
    public var shardShift: Int64

    public init(copy: Int, headerShift: Int64, shardShift: Int64) {
        self.copy = copy
        self.headerShift = headerShift
        self.shardShift = shardShift
    }
}

/// A run of consecutive stripes of one copy found shifted by the same number of bytes.
public struct ShiftedRun: Sendable, Codable, Equatable, CustomStringConvertible {
    public var copy: Int
    public var firstStripe: UInt64
    public var lastStripe: UInt64
    /// Bytes from the nominal offset: positive after an insertion, negative after a deletion.
    public var shift: Int64

    public var description: String {
        let stripes = firstStripe == lastStripe ? "stripe \(firstStripe)" : "stripes \(firstStripe)-\(lastStripe)"
        return "copy \(copy == 0 ? "A" : "B") \(stripes) by \(shift > 0 ? "+" : "")\(shift) bytes"
    }
}

/// A shard in a copy.
public struct ShardPosition: Sendable, Codable, Equatable, Hashable {
    public var copy: Int
    public var shard: Int
    public init(copy: Int, shard: Int) {
        self.copy = copy
        self.shard = shard
    }
}

/// Everything a read, validation or repair found and fixed: one repair per stripe
/// that was not clean (a clean file has none, so the report's size follows the
/// damage, not the backup), plus the heads.
public struct RepairReport: Sendable, Codable, Equatable {
    public var stripes: [StripeRepair] = []
    /// Heads (0, 1, 2) that were unreadable or needed correction.
    public var headsDamaged: [Int] = []
    /// True when no intact head was found and the layout came from scanning.
    public var layoutFromScan: Bool = false
    /// What the keyless walk of the ciphertext stream's sealed-chunk prefixes found that a
    /// restore refuses (an impossible sealed chunk, no final chunk, an end the head does not
    /// record): the validator's verdict "unrecoverable" without a lost shard.
    public var streamDefects: [String] = []

    public init() {}

    public var totalShardsFromOtherCopy: Int { stripes.reduce(0) { $0 + $1.shardsFromOtherCopy.count } }
    public var totalShardsRebuilt: Int { stripes.reduce(0) { $0 + $1.shardsRebuilt.count } }
    public var totalBytesCorrected: Int { stripes.reduce(0) { $0 + $1.bytesCorrected } }
    public var totalHeadersRepaired: Int { stripes.reduce(0) { $0 + $1.headersRepaired.count } }
    public var lostShards: [LostShard] { stripes.flatMap(\.lost) }

    /// The stripes found off their nominal offsets, as runs per copy and shift (a
    /// straddling record counts with the shift of its shards).
    public var shiftedRuns: [ShiftedRun] {
        var runs: [ShiftedRun] = []
        for copy in 0..<2 {
            for repair in stripes {
                guard let found = repair.shifted.first(where: { $0.copy == copy }) else { continue }
                let shift = found.shardShift
                if let last = runs.last, last.copy == copy, last.shift == shift, last.lastStripe + 1 == repair.stripe {
                    runs[runs.count - 1].lastStripe = repair.stripe
                } else {
                    runs.append(
                        ShiftedRun(copy: copy, firstStripe: repair.stripe, lastStripe: repair.stripe, shift: shift))
                }
            }
        }
        return runs
    }

    /// Nothing was damaged at all.
    public var isClean: Bool {
        stripes.allSatisfy(\.isClean) && headsDamaged.isEmpty && !layoutFromScan && streamDefects.isEmpty
    }
    /// Damage was found and every bit of it was repaired.
    public var healed: Bool { !isClean && lostShards.isEmpty && streamDefects.isEmpty }

    /// Adds heads found damaged later (by the stream they describe), each once, in order.
    package mutating func addDamagedHeads(_ heads: [Int]) {
        headsDamaged = Array(Set(headsDamaged).union(heads)).sorted()
    }

    /// Adds one stripe's repair, if anything was done to it.
    package mutating func add(_ repair: StripeRepair) {
        if !repair.isClean { stripes.append(repair) }
    }
}

extension RepairReport: CustomStringConvertible {
    public var description: String {
        if isClean { return "clean" }
        var parts = [
            "\(totalShardsFromOtherCopy) shards from the other copy",
            "\(totalShardsRebuilt) rebuilt",
            "\(totalBytesCorrected) bytes corrected",
            "\(totalHeadersRepaired) stripe headers repaired",
        ]
        if !headsDamaged.isEmpty { parts.append("heads \(headsDamaged) damaged") }
        if layoutFromScan { parts.append("layout found by scanning") }
        let runs = shiftedRuns
        if !runs.isEmpty { parts.append("found shifted: " + runs.map(\.description).joined(separator: "; ")) }
        let lost = lostShards
        if !lost.isEmpty {
            parts.append(
                "\(lost.count) shards lost (first: \(lost.prefix(3).map(\.description).joined(separator: "; ")))")
        }
        parts.append(contentsOf: streamDefects.map { "stream: \($0)" })
        return parts.joined(separator: ", ")
    }
}
