/// The fixed matrices of one Reed-Solomon shape, derived from the code's definition
/// (generator and shard ↔ degree mapping, documented on ``ReedSolomon``):
///
/// - the parity matrix P (m x k): parity shard r = Σ_i P[r, i] * data shard i, where
///   P[r, i] is the coefficient of x^(m-1-r) in x^(n-1-i) mod g(x);
/// - the syndrome matrix H (m x n): syndrome j = c(α^j) = Σ_s α^(j (n-1-s)) * shard s.
///   A stripe is a codeword in every column exactly when all m syndromes are zero.
package struct ReedSolomonMatrices: Sendable {
    package let dataShards: Int
    package let parityShards: Int
    package var totalShards: Int { dataShards + parityShards }

    /// P, m x k.
    package let parity: GFMatrix
    /// H, m x n.
    package let syndrome: GFMatrix

    /// The shape must already be valid (k >= 1, m >= 1, k + m <= 255).
    package init(dataShards k: Int, parityShards m: Int) {
        dataShards = k
        parityShards = m
        let n = k + m
        let generator = Self.generator(degree: m)

        // x^e mod g(x) for e = 0, 1, ..., n-1, each as m coefficients (index = degree).
        var remainder = [UInt8](repeating: 0, count: m)
        remainder[0] = 1
        var parity = GFMatrix(rows: m, columns: k)
        for degree in 0..<n {
            if degree >= m {
                // Data shard i = n-1-degree holds x^degree.
                let i = n - 1 - degree
                for r in 0..<m { parity[r, i] = remainder[m - 1 - r] }
            }
            // remainder *= x, reduced by the monic g: x^m ≡ Σ_{t<m} g_t x^t (char 2).
            let top = remainder[m - 1]
            for t in stride(from: m - 1, to: 0, by: -1) {
                remainder[t] = remainder[t - 1] ^ GF256.multiply(top, generator[t])
            }
            remainder[0] = GF256.multiply(top, generator[0])
        }
        self.parity = parity

        var syndrome = GFMatrix(rows: m, columns: n)
        for j in 0..<m {
            for s in 0..<n { syndrome[j, s] = GF256.alphaPower(j * Self.degree(ofShard: s, totalShards: n)) }
        }
        self.syndrome = syndrome
    }

    /// The polynomial degree (codeword position) of shard `s`: n - 1 - s.
    /// The f x (n - f) matrix that rebuilds the `erased` shards (sorted, distinct,
    /// 1...m of them) from the survivors, and the survivors in column order: the
    /// inverse f x f Vandermonde system of the first f syndromes (see
    /// ``ErasureSolutions``), no k x k inverse.
    package func erasureSolution(erased: [Int]) -> (matrix: GFMatrix, survivors: [Int]) {
        let n = totalShards
        let erasedSet = Set(erased)
        let survivors = (0..<n).filter { !erasedSet.contains($0) }
        let points = erased.map { ColumnDecoder.locator(ofShard: $0, totalShards: n) }
        let inverse = ErasureSolutions.inverseVandermonde(points: points)
        let rhs = syndrome.selectingRows(Array(0..<erased.count)).selectingColumns(survivors)
        return (inverse.multiplied(by: rhs), survivors)
    }

    static func degree(ofShard s: Int, totalShards n: Int) -> Int { n - 1 - s }

    /// The shard holding degree `p`: n - 1 - p.
    static func shard(ofDegree p: Int, totalShards n: Int) -> Int { n - 1 - p }

    /// g(x) = Π_{i<m} (x - α^i), m + 1 coefficients, index = degree, monic.
    static func generator(degree m: Int) -> [UInt8] {
        var g: [UInt8] = [1]
        for i in 0..<m {
            // g *= (x + α^i)
            let root = GF256.alphaPower(i)
            var next = [UInt8](repeating: 0, count: g.count + 1)
            for (t, coefficient) in g.enumerated() {
                next[t + 1] ^= coefficient
                next[t] ^= GF256.multiply(coefficient, root)
            }
            g = next
        }
        return g
    }
}
