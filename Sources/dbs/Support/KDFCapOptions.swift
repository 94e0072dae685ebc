import ArgumentParser
import DBSKit

/// The key-derivation cost a reading command accepts from a backup it cannot yet
/// authenticate (`KDFCostCap`): above it the backup is refused with its parameters
/// named, and these options raise the cap for a file the user trusts.
struct KDFCapOptions: ParsableArguments {
    @Option(
        name: .customLong("max-kdf-memory"),
        help: ArgumentHelp(
            "Refuse a backup whose Argon2id memory is above this many KiB (default 1 GiB).", valueName: "KiB"))
    var maxKDFMemory: UInt32 = KDFCostCap.default.maximumMemoryKiB

    @Option(
        name: .customLong("max-kdf-time"),
        help: ArgumentHelp(
            "Refuse a backup whose Argon2id time cost is above this many passes.", valueName: "passes"))
    var maxKDFTime: UInt32 = KDFCostCap.default.maximumTimeCost

    var cap: KDFCostCap { KDFCostCap(maximumMemoryKiB: maxKDFMemory, maximumTimeCost: maxKDFTime) }
}
