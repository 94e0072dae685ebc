import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSReedSolomon

/// Encode, consistency and whole-shard erasure decoding, one stripe and batches.
@Suite("Reed-Solomon codec")
struct ReedSolomonTests {
    /// Shapes at the edges of the parameter space, with odd and one-byte shards.
    static let edgeShapes: [(k: Int, m: Int, s: Int)] = [
        (1, 1, 1), (1, 1, 7), (2, 1, 3), (254, 1, 3), (1, 254, 2), (239, 16, 1),
        (239, 16, 5), (128, 127, 3), (3, 2, 33), (10, 4, 64),
    ]

    @Test(arguments: RSBackendKind.allCases)
    func encodeYieldsConsistentStripesAndDamageIsSeen(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 1)
        for (k, m, s) in Self.edgeShapes {
            guard let code = try makeCode(dataShards: k, parityShards: m, backend: backend) else { return }
            var stripe = try encodedStripe(code, shardLength: s, using: &rng)
            #expect(try code.isConsistent(stripe: stripe, shardLength: s), "k=\(k) m=\(m) S=\(s)")
            // Any single changed byte, data or parity, breaks consistency (distance m + 1 ≥ 2).
            let index = Int.random(in: 0..<stripe.count, using: &rng)
            stripe[index] ^= rng.nonZero()
            #expect(try !code.isConsistent(stripe: stripe, shardLength: s), "k=\(k) m=\(m) S=\(s) byte \(index)")
        }
    }

    @Test(arguments: RSBackendKind.allCases)
    func parityIsALinearFunctionOfDataOnly(backend: RSBackendKind) throws {
        // Whatever was in the parity shards before encoding does not matter.
        var rng = SeededGenerator(seed: 2)
        guard let code = try makeCode(dataShards: 5, parityShards: 3, backend: backend) else { return }
        let s = 11
        let clean = try encodedStripe(code, shardLength: s, using: &rng)
        var dirty = clean
        garble(&dirty, shards: [5, 6, 7], shardLength: s, using: &rng)
        try code.encode(stripe: &dirty, shardLength: s)
        #expect(dirty == clean)
        // All-zero data encodes to all-zero parity.
        var zero = [UInt8](repeating: 0, count: 8 * s)
        garble(&zero, shards: [6], shardLength: s, using: &rng)
        try code.encode(stripe: &zero, shardLength: s)
        #expect(zero.allSatisfy { $0 == 0 })
    }

    @Test(arguments: RSBackendKind.allCases)
    func reconstructRebuildsAnyErasurePatternUpToM(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 3)
        for round in 0..<60 {
            let m = Int.random(in: 1...12, using: &rng)
            let k = Int.random(in: 1...40, using: &rng)
            let s = Int.random(in: 1...37, using: &rng)
            guard let code = try makeCode(dataShards: k, parityShards: m, backend: backend) else { return }
            let original = try encodedStripe(code, shardLength: s, using: &rng)
            let f = Int.random(in: 0...m, using: &rng)
            let erased = rng.distinct(f, from: 0..<(k + m))
            var damaged = original
            garble(&damaged, shards: erased, shardLength: s, using: &rng)
            try code.reconstruct(stripe: &damaged, shardLength: s, erased: erased)
            #expect(damaged == original, "round \(round): k=\(k) m=\(m) S=\(s) erased \(erased)")
        }
    }

    @Test(arguments: RSBackendKind.allCases)
    func reconstructAtTheEdges(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 4)
        for (k, m, s) in Self.edgeShapes {
            guard let code = try makeCode(dataShards: k, parityShards: m, backend: backend) else { return }
            let original = try encodedStripe(code, shardLength: s, using: &rng)
            let n = k + m
            // Exactly m erased: all data shards first (when m allows), all parity, and a mix.
            let patterns = [
                Array(0..<min(m, k)) + Array(k..<(k + max(0, m - k))),
                Array(k..<n),
                rng.distinct(m, from: 0..<n),
            ]
            for erased in patterns {
                var damaged = original
                garble(&damaged, shards: erased, shardLength: s, using: &rng)
                try code.reconstruct(stripe: &damaged, shardLength: s, erased: erased)
                #expect(damaged == original, "k=\(k) m=\(m) S=\(s) erased \(erased)")
            }
        }
    }

    @Test func erasureSolutionsAreCachedPerPatternAndBounded() throws {
        let code = try ReedSolomon(dataShards: 6, parityShards: 3, backend: .scalar)
        var rng = SeededGenerator(seed: 5)
        var stripe = try encodedStripe(code, shardLength: 4, using: &rng)
        try code.reconstruct(stripe: &stripe, shardLength: 4, erased: [7, 1])
        try code.reconstruct(stripe: &stripe, shardLength: 4, erased: [1, 7])
        #expect(code.erasureSolutions.count == 1)
        for a in 0..<9 {
            for b in (a + 1)..<9 {
                for c in (b + 1)..<9 {
                    try code.reconstruct(stripe: &stripe, shardLength: 4, erased: [a, b, c])
                }
            }
        }
        #expect(code.erasureSolutions.count == ErasureSolutions.capacity)
        #expect(try code.isConsistent(stripe: stripe, shardLength: 4))
    }

    @Test func parityMatrixMatchesTheGeneratorRoots() {
        // Every codeword polynomial vanishes at α^0 ... α^(m-1): H · [I; P] = 0, i.e. the
        // syndrome of each data unit vector plus its parity column is zero.
        for (k, m) in [(1, 1), (4, 3), (239, 16), (1, 254)] {
            let matrices = ReedSolomonMatrices(dataShards: k, parityShards: m)
            for i in 0..<k {
                var column = [UInt8](repeating: 0, count: k + m)
                column[i] = 1
                for r in 0..<m { column[k + r] = matrices.parity[r, i] }
                for j in 0..<m {
                    var sum: UInt8 = 0
                    for s in 0..<(k + m) { sum ^= GF256.multiply(matrices.syndrome[j, s], column[s]) }
                    if sum != 0 { Issue.record("k=\(k) m=\(m): syndrome \(j) of data unit \(i) is \(sum)") }
                }
            }
        }
    }

    // MARK: Batches

    @Test(arguments: RSBackendKind.allCases)
    func batchesMatchOneStripeAtATimeForAnyThreadCount(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 6)
        // Many small stripes, and a few large ones split into column ranges.
        for (k, m, s, stripes) in [(5, 3, 9, 7), (239, 16, 600, 1), (20, 4, 4000, 2)] {
            guard let code = try makeCode(dataShards: k, parityShards: m, backend: backend) else { return }
            let length = code.stripeLength(shardLength: s)
            var expected: [UInt8] = []
            for _ in 0..<stripes { expected += try encodedStripe(code, shardLength: s, using: &rng) }
            for threads in [1, 2, 3, 5] {
                var batch = expected
                for stripe in 0..<stripes {
                    garble(
                        &batch, shards: Array((stripe * (k + m) + k)..<((stripe + 1) * (k + m))),
                        shardLength: s, using: &rng)
                }
                try code.encode(stripes: &batch, shardLength: s, threads: threads)
                #expect(batch == expected, "encode k=\(k) m=\(m) S=\(s) threads=\(threads)")

                let erased = rng.distinct(m, from: 0..<(k + m))
                for stripe in 0..<stripes {
                    garble(&batch, shards: erased.map { stripe * (k + m) + $0 }, shardLength: s, using: &rng)
                }
                try code.reconstruct(stripes: &batch, shardLength: s, erased: erased, threads: threads)
                #expect(batch == expected, "reconstruct k=\(k) m=\(m) S=\(s) threads=\(threads)")

                let bad = Int.random(in: 0..<stripes, using: &rng)
                batch[bad * length + Int.random(in: 0..<length, using: &rng)] ^= rng.nonZero()
                let verdicts = try code.consistency(stripes: batch, shardLength: s, threads: threads)
                #expect(verdicts == (0..<stripes).map { $0 != bad }, "consistency threads=\(threads)")
            }
        }
    }

    @Test func splittingIntoColumnRangesCoversEveryColumnOnce() throws {
        let code = try ReedSolomon(dataShards: 239, parityShards: 16, backend: .scalar)
        for (s, stripes, threads) in [(4096, 1, 2), (4096, 1, 8), (1000, 3, 7), (1, 1, 4), (300, 2, 2)] {
            let work = StripeWork(code: code, shardLength: s, stripes: stripes, threads: threads)
            var covered = [Int](repeating: 0, count: stripes * s)
            for index in 0..<work.pieces {
                let (stripe, columns) = work.piece(index)
                #expect(columns.count * code.totalShards >= StripeWork.minimumPieceBytes || work.piecesPerStripe == 1)
                for c in columns { covered[stripe * s + c] += 1 }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "S=\(s) stripes=\(stripes) threads=\(threads)")
            #expect(work.workers <= threads)
        }
        #expect(StripeWork(code: code, shardLength: 4096, stripes: 1, threads: 2).piecesPerStripe == 2)
    }

    @Test func emptyBatchIsZeroStripes() throws {
        let code = try ReedSolomon(dataShards: 3, parityShards: 2, backend: .scalar)
        var empty: [UInt8] = []
        try code.encode(stripes: &empty, shardLength: 8, threads: 2)
        try code.reconstruct(stripes: &empty, shardLength: 8, erased: [0], threads: 2)
        #expect(try code.consistency(stripes: empty, shardLength: 8, threads: 2) == [])
    }

    // MARK: Bad input

    @Test func badShapesThrow() {
        for (k, m) in [(0, 1), (1, 0), (-1, 4), (4, -1), (255, 1), (1, 255), (200, 56), (Int.max, 1), (1, Int.max)] {
            #expect(throws: ReedSolomonError.invalidShape(dataShards: k, parityShards: m)) {
                try ReedSolomon(dataShards: k, parityShards: m, backend: .scalar)
            }
        }
        #expect(throws: Never.self) { try ReedSolomon(dataShards: 254, parityShards: 1, backend: .scalar) }
    }

    @Test func badBuffersLengthsAndIndicesThrow() throws {
        let code = try ReedSolomon(dataShards: 4, parityShards: 2, backend: .scalar)
        var stripe = [UInt8](repeating: 0, count: 6 * 8)
        let original = stripe

        #expect(throws: ReedSolomonError.invalidShardLength(0)) { try code.encode(stripe: &stripe, shardLength: 0) }
        #expect(throws: ReedSolomonError.invalidShardLength(-3)) {
            try code.isConsistent(stripe: stripe, shardLength: -3)
        }
        #expect(throws: ReedSolomonError.invalidShardLength(Int.max)) {
            try code.encode(stripe: &stripe, shardLength: Int.max)
        }
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 42, actual: 48)) {
            try code.encode(stripe: &stripe, shardLength: 7)
        }
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 54, actual: 48)) {
            try code.isConsistent(stripe: stripe, shardLength: 9)
        }
        #expect(throws: ReedSolomonError.invalidShardIndex(6, totalShards: 6)) {
            try code.reconstruct(stripe: &stripe, shardLength: 8, erased: [6])
        }
        #expect(throws: ReedSolomonError.invalidShardIndex(-1, totalShards: 6)) {
            try code.reconstruct(stripe: &stripe, shardLength: 8, erased: [0, -1])
        }
        #expect(throws: ReedSolomonError.duplicateShardIndex(2)) {
            try code.reconstruct(stripe: &stripe, shardLength: 8, erased: [2, 2])
        }
        #expect(throws: ReedSolomonError.tooManyErasures(erased: 3, parityShards: 2)) {
            try code.reconstruct(stripe: &stripe, shardLength: 8, erased: [0, 1, 5])
        }

        // Batches: a partial stripe, a bad thread count.
        var batch = [UInt8](repeating: 0, count: 6 * 8 * 2 + 1)
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 6 * 8 * 3, actual: 97)) {
            try code.encode(stripes: &batch, shardLength: 8, threads: 1)
        }
        batch.removeLast()
        for threads in [0, -2] {
            #expect(throws: ReedSolomonError.invalidThreadCount(threads)) {
                try code.encode(stripes: &batch, shardLength: 8, threads: threads)
            }
            #expect(throws: ReedSolomonError.invalidThreadCount(threads)) {
                try code.consistency(stripes: batch, shardLength: 8, threads: threads)
            }
            #expect(throws: ReedSolomonError.invalidThreadCount(threads)) {
                try code.reconstruct(stripes: &batch, shardLength: 8, erased: [1], threads: threads)
            }
        }
        #expect(throws: ReedSolomonError.tooManyErasures(erased: 3, parityShards: 2)) {
            try code.reconstruct(stripes: &batch, shardLength: 8, erased: [0, 1, 2], threads: 2)
        }

        // Column decoding: bad column, bad shard in an erasure list, bad trusted shard.
        #expect(throws: ReedSolomonError.invalidColumn(8, shardLength: 8)) {
            try code.correctColumns(stripe: &stripe, shardLength: 8, erasures: [8: [0]], trusted: [])
        }
        #expect(throws: ReedSolomonError.invalidColumn(-1, shardLength: 8)) {
            try code.correctColumns(stripe: &stripe, shardLength: 8, erasures: [-1: [0]], trusted: [])
        }
        #expect(throws: ReedSolomonError.invalidShardIndex(9, totalShards: 6)) {
            try code.correctColumns(stripe: &stripe, shardLength: 8, erasures: [3: [9]], trusted: [])
        }
        #expect(throws: ReedSolomonError.duplicateShardIndex(1)) {
            try code.correctColumns(stripe: &stripe, shardLength: 8, erasures: [3: [1, 1]], trusted: [])
        }
        #expect(throws: ReedSolomonError.invalidShardIndex(6, totalShards: 6)) {
            try code.correctColumns(stripe: &stripe, shardLength: 8, erasures: [:], trusted: [6])
        }
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 42, actual: 48)) {
            try code.correctColumns(stripe: &stripe, shardLength: 7, erasures: [:], trusted: [])
        }
        #expect(stripe == original, "a refused call changed the buffer")
    }

    @Test func errorsDescribeTheirValues() {
        #expect(ReedSolomonError.invalidShape(dataShards: 250, parityShards: 10).description.contains("250"))
        #expect(ReedSolomonError.tooManyErasures(erased: 17, parityShards: 16).description.contains("17"))
        #expect(ReedSolomonError.backendUnavailable(.isal).description.contains("isal"))
    }
}
