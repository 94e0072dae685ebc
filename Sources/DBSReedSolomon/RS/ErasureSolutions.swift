internal import Synchronization

/// Builds and caches, per erasure pattern, the matrix that rebuilds erased shards
/// from the surviving ones.
///
/// With the erased shards E (|E| = f ≤ m) and the survivors U, every codeword has
/// zero syndromes, Σ_s H[j, s] c_s = 0, so for the first f syndromes
///
///     Σ_{t ∈ E} α^(j p_t) c_t = Σ_{u ∈ U} H[j, u] c_u      (j < f, char 2: minus is plus)
///
/// The left side is an f x f Vandermonde system V on the distinct points α^(p_t),
/// always invertible, so c_E = V⁻¹ · H[0..<f, U] · c_U: one f x (n - f) matrix, applied
/// by the kernel over the whole shard length. No k x k inverse, and the f x f inverse
/// is paid once per pattern: the cache keeps the prepared matrix.
final class ErasureSolutions: Sendable {
    /// A prepared solution: `matrix` rebuilds `erased` (rows, ascending) from
    /// `survivors` (columns, ascending).
    struct Solution: Sendable {
        let erased: [Int]
        let survivors: [Int]
        let matrix: any PreparedGFMatrix
    }

    /// Patterns kept; a stripe set usually repeats a handful of patterns, and one
    /// entry costs at most 255 x 255 bytes plus the kernel's expansion.
    static let capacity = 64

    private let matrices: ReedSolomonMatrices
    private let kernel: any RSKernel
    private let cache = Mutex<[[Int]: Solution]>([:])

    init(matrices: ReedSolomonMatrices, kernel: any RSKernel) {
        self.matrices = matrices
        self.kernel = kernel
    }

    /// The solution for a pattern: `erased` sorted ascending, distinct, valid, 1...m of them.
    func solution(erased: [Int]) -> Solution {
        if let cached = cache.withLock({ $0[erased] }) { return cached }
        // Built outside the lock: two threads may race to build the same pattern, both
        // results are identical and the second insert is a no-op overwrite.
        let built = build(erased: erased)
        cache.withLock { entries in
            if entries.count >= Self.capacity, entries[erased] == nil,
                let victim = entries.keys.first
            {
                entries[victim] = nil
            }
            entries[erased] = built
        }
        return built
    }

    /// How many patterns are cached (for tests).
    var count: Int { cache.withLock { $0.count } }

    private func build(erased: [Int]) -> Solution {
        let (solution, survivors) = matrices.erasureSolution(erased: erased)
        return Solution(erased: erased, survivors: survivors, matrix: kernel.prepare(solution))
    }

    /// The inverse of the f x f Vandermonde matrix V[j, t] = X_t^j on distinct points,
    /// in O(f²) rather than Gauss-Jordan's O(f³) (which is what makes large m slow).
    ///
    /// Row t of V⁻¹ holds the coefficients of the Lagrange basis polynomial
    /// L_t(z) = Π_{u≠t} (z - X_u) / (X_t - X_u), since Σ_j L_t[j] X_u^j = L_t(X_u) = δ_tu.
    static func inverseVandermonde(points: [UInt8]) -> GFMatrix {
        let f = points.count
        // P(z) = Π_u (z - X_u), f + 1 coefficients, index = degree.
        var master: [UInt8] = [1]
        for x in points { master = Polynomial.multiply(master, [x, 1]) }
        var inverse = GFMatrix(rows: f, columns: f)
        for (t, x) in points.enumerated() {
            // Q(z) = P(z) / (z - X_t) by synthetic division, from the top degree down.
            var quotient = [UInt8](repeating: 0, count: f)
            var carry: UInt8 = 0
            for degree in stride(from: f, through: 1, by: -1) {
                carry = master[degree] ^ GF256.multiply(carry, x)
                quotient[degree - 1] = carry
            }
            // Q(X_t) = Π_{u≠t} (X_t - X_u), non-zero for distinct points.
            let scale = GF256.inverse(Polynomial.evaluate(quotient, at: x))
            for j in 0..<f { inverse[t, j] = GF256.multiply(quotient[j], scale) }
        }
        return inverse
    }
}
