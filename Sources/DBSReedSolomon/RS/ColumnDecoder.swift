/// Errors-and-erasures decoding of one codeword (one column of a stripe) from its
/// syndromes: Berlekamp-Massey seeded with the erasure locator, a Chien search over
/// the n real positions, Forney magnitudes, and a syndrome recheck.
///
/// Positions follow ``ReedSolomon``'s definition: shard s is the coefficient of x^(n-1-s),
/// its locator is X = α^(n-1-s). The generator's roots are α^0 ... α^(m-1) (b = 0), so
/// Forney's magnitude is e = X · Ω(X⁻¹) / Λ'(X⁻¹).
///
/// The decoder answers only when everything agrees: 2e + f ≤ m, the locator has exactly
/// as many roots among the n positions as its degree, every erasure is among them, no
/// located error has magnitude zero, and the corrected word has all-zero syndromes.
/// Anything else is `nil`: the column is beyond what the code can vouch for.
enum ColumnDecoder {
    /// One byte to fix: XOR `magnitude` into shard `shard`.
    struct Fix: Equatable {
        let shard: Int
        let magnitude: UInt8
    }

    /// The fixes that turn the column into the nearest codeword, or nil when the column
    /// is beyond capacity (or any check fails).
    ///
    /// - Parameters:
    ///   - syndromes: S_0 ... S_(m-1) of the received column.
    ///   - erased: distinct valid shard indices whose bytes are unknown in this column.
    ///   - totalShards: n.
    static func decode(syndromes: [UInt8], erased: [Int], totalShards n: Int) -> [Fix]? {
        let m = syndromes.count
        let f = erased.count
        guard f <= m else { return nil }

        // Erasure locator Γ(x) = Π (1 + X_t x).
        var gamma: [UInt8] = [1]
        for shard in erased {
            gamma = Polynomial.multiply(gamma, [1, locator(ofShard: shard, totalShards: n)])
        }

        // Berlekamp-Massey from Λ = B = Γ, L = f, over the syndromes not used up by the
        // erasures (Blahut's errors-and-erasures form).
        var lambda = gamma
        var previous = gamma
        var length = f
        for r in f..<m {
            var discrepancy: UInt8 = 0
            for i in 0...min(r, lambda.count - 1) {
                discrepancy ^= GF256.multiply(lambda[i], syndromes[r - i])
            }
            previous.insert(0, at: 0)  // B = x B
            guard discrepancy != 0 else { continue }
            let updated = Polynomial.add(lambda, Polynomial.scale(previous, by: discrepancy))
            if 2 * length <= r + f {
                previous = Polynomial.scale(lambda, by: GF256.inverse(discrepancy))
                length = r + 1 + f - length
            }
            lambda = updated
        }
        lambda = Polynomial.trimmed(lambda)
        let degree = lambda.count - 1
        let errors = degree - f
        guard degree == length, errors >= 0, 2 * errors + f <= m else { return nil }

        // Chien search over the n real positions only.
        var roots: [Int] = []
        for shard in 0..<n {
            let inverseLocator = GF256.alphaPower(-ReedSolomonMatrices.degree(ofShard: shard, totalShards: n))
            if Polynomial.evaluate(lambda, at: inverseLocator) == 0 { roots.append(shard) }
        }
        guard roots.count == degree else { return nil }
        let rootSet = Set(roots)
        guard erased.allSatisfy(rootSet.contains) else { return nil }

        // Forney: Ω(x) = S(x) Λ(x) mod x^m, magnitude X Ω(X⁻¹) / Λ'(X⁻¹).
        let omega = Array(Polynomial.multiply(syndromes, lambda).prefix(m))
        let derivative = Polynomial.derivative(lambda)
        let erasedSet = Set(erased)
        var fixes: [Fix] = []
        for shard in roots {
            let x = locator(ofShard: shard, totalShards: n)
            let xInverse = GF256.inverse(x)
            let denominator = Polynomial.evaluate(derivative, at: xInverse)
            guard denominator != 0 else { return nil }
            let magnitude = GF256.multiply(x, GF256.divide(Polynomial.evaluate(omega, at: xInverse), denominator))
            if magnitude == 0 {
                // A located error that changes nothing means the locator is not the
                // error pattern's: refuse. (An erasure may well have been right.)
                guard erasedSet.contains(shard) else { return nil }
                continue
            }
            fixes.append(Fix(shard: shard, magnitude: magnitude))
        }

        // Recheck: the corrected column must have all-zero syndromes.
        for j in 0..<m {
            var s = syndromes[j]
            for fix in fixes {
                let power = GF256.alphaPower(j * ReedSolomonMatrices.degree(ofShard: fix.shard, totalShards: n))
                s ^= GF256.multiply(fix.magnitude, power)
            }
            guard s == 0 else { return nil }
        }
        return fixes
    }

    /// X = α^(n-1-s).
    static func locator(ofShard shard: Int, totalShards n: Int) -> UInt8 {
        GF256.alphaPower(ReedSolomonMatrices.degree(ofShard: shard, totalShards: n))
    }
}

/// Small polynomials over GF(2^8), coefficients indexed by degree.
enum Polynomial {
    static func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = a.count >= b.count ? a : b
        for (i, c) in (a.count >= b.count ? b : a).enumerated() { out[i] ^= c }
        return out
    }

    static func scale(_ a: [UInt8], by factor: UInt8) -> [UInt8] {
        a.map { GF256.multiply($0, factor) }
    }

    static func multiply(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var out = [UInt8](repeating: 0, count: a.count + b.count - 1)
        for (i, x) in a.enumerated() where x != 0 {
            for (j, y) in b.enumerated() { out[i + j] ^= GF256.multiply(x, y) }
        }
        return out
    }

    /// Horner evaluation.
    static func evaluate(_ a: [UInt8], at x: UInt8) -> UInt8 {
        var value: UInt8 = 0
        for c in a.reversed() { value = GF256.multiply(value, x) ^ c }
        return value
    }

    /// The formal derivative; in characteristic 2 only odd terms survive.
    static func derivative(_ a: [UInt8]) -> [UInt8] {
        guard a.count > 1 else { return [0] }
        return (1..<a.count).map { $0 & 1 == 1 ? a[$0] : 0 }
    }

    /// Without high zero coefficients (the zero polynomial keeps one coefficient).
    static func trimmed(_ a: [UInt8]) -> [UInt8] {
        var out = a
        while out.count > 1, out.last == 0 { out.removeLast() }
        return out
    }
}
