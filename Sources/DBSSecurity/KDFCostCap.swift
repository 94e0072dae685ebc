/// What a reader spends on a backup's key derivation without being asked.
///
/// The Argon2id parameters come from the file, before anything in it can be
/// authenticated (the key they derive is what authenticates it). `KDFParameters.limits`
/// keeps them finite, but within those bounds a file may still ask for 4 GiB and 64
/// passes: half an hour of a machine for a "wrong passphrase". A reader therefore caps
/// the cost by default at what a user accepts without asking (1 GiB, ten times the
/// default time cost) and refuses a file above it with the parameters named, as age does
/// for its scrypt work factor; the caller raises the cap for a file it trusts.
public struct KDFCostCap: Sendable, Equatable {
    /// The most memory a file may ask for, in KiB.
    public var maximumMemoryKiB: UInt32
    /// The most passes a file may ask for.
    public var maximumTimeCost: UInt32

    public init(
        maximumMemoryKiB: UInt32 = KDFCostCap.default.maximumMemoryKiB,
        maximumTimeCost: UInt32 = KDFCostCap.default.maximumTimeCost
    ) {
        self.maximumMemoryKiB = maximumMemoryKiB
        self.maximumTimeCost = maximumTimeCost
    }

    /// 1 GiB and 30 passes (ten times `KDFParameters.default.timeCost`).
    public static let `default` = KDFCostCap(memory: 1 << 20, time: 10 * KDFParameters.default.timeCost)

    private init(memory: UInt32, time: UInt32) {
        maximumMemoryKiB = memory
        maximumTimeCost = time
    }

    /// Whether a reader under this cap derives a key with `parameters`.
    package func admits(_ parameters: KDFParameters) -> Bool {
        parameters.memoryKiB <= maximumMemoryKiB && parameters.timeCost <= maximumTimeCost
    }
}
