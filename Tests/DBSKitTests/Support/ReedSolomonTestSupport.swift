import DBSTestSupport

@testable import DBSKit
@testable import DBSReedSolomon

/// The code for a backend, or nil when `KernelRegistry` reports that backend
/// unavailable in this build (the only reason a backend-parameterised test skips).
func makeCode(dataShards: Int, parityShards: Int, backend: RSBackendKind) throws -> ReedSolomon? {
    do {
        return try ReedSolomon(dataShards: dataShards, parityShards: parityShards, backend: backend)
    } catch {
        // Not `catch .backendUnavailable`: Swift 6.2.3 (the arm64 build) crashes on
        // that pattern over a typed error with payloads ("Found outside of lifetime use").
        if case .backendUnavailable = error { return nil }
        throw error
    }
}

/// A random stripe of the code's shape with correct parity.
func encodedStripe(_ code: ReedSolomon, shardLength: Int, using rng: inout SeededGenerator) throws -> [UInt8] {
    var stripe = rng.bytes(code.dataShards * shardLength)
    stripe += [UInt8](repeating: 0, count: code.parityShards * shardLength)
    try code.encode(stripe: &stripe, shardLength: shardLength)
    return stripe
}

/// Overwrites whole shards with random bytes.
func garble(_ stripe: inout [UInt8], shards: [Int], shardLength: Int, using rng: inout SeededGenerator) {
    for shard in shards {
        for i in 0..<shardLength { stripe[shard * shardLength + i] = UInt8.random(in: 0...255, using: &rng) }
    }
}

/// Columns whose bytes form a codeword, checked with an independent re-encode of the
/// data bytes (not with the syndromes the decoder uses).
func codewordColumns(_ code: ReedSolomon, stripe: [UInt8], shardLength: Int) throws -> Set<Int> {
    var reencoded = stripe
    try code.encode(stripe: &reencoded, shardLength: shardLength)
    return Set(
        (0..<shardLength).filter { column in
            (code.dataShards..<code.totalShards).allSatisfy {
                reencoded[$0 * shardLength + column] == stripe[$0 * shardLength + column]
            }
        })
}
