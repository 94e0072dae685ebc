/// The Reed-Solomon backends DBS carries. All compute byte-identical results.
public enum RSBackendKind: String, CaseIterable, Sendable, Codable {
    /// Intel ISA-L's SIMD kernels (x86-64 SSE/AVX2/AVX-512, arm64 NEON/SVE), through CISAL.
    case isal
    /// Portable Swift SIMD, no C: what runs where ISA-L is absent.
    case simd
    /// A short table-based reference, for tests.
    case scalar
}

/// A bulk GF(2^8) matrix-times-shards kernel: the one operation every Reed-Solomon
/// step reduces to. Encoding multiplies the m x k parity matrix by the data shards,
/// the syndrome check an m x n matrix by the whole stripe, erasure decoding an
/// f x (n - f) solution matrix by the surviving shards.
///
/// A kernel first *prepares* a coefficient matrix (ISA-L expands it into its
/// 32-bytes-per-coefficient tables, for instance), so that a matrix used for many
/// stripes is expanded once.
package protocol RSKernel: Sendable {
    var kind: RSBackendKind { get }
    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix
}

/// A coefficient matrix in the form its kernel wants, ready to be applied.
package protocol PreparedGFMatrix: Sendable {
    var rows: Int { get }
    var columns: Int { get }

    /// `outputs[r][0..<length] = XOR over c of matrix[r, c] * inputs[c][0..<length]`.
    ///
    /// `inputs.count == columns`, `outputs.count == rows`, every buffer holds at least
    /// `length` bytes, outputs do not alias inputs or each other. Outputs are
    /// overwritten, not accumulated into. Thread-safe: one prepared matrix may be
    /// applied from many threads at once to disjoint outputs.
    func apply(
        length: Int,
        inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
        outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>)
}

extension PreparedGFMatrix {
    /// ``apply(length:inputs:outputs:)`` with pointer arrays, for callers that build
    /// their pointer lists as arrays (tests, the benchmark, per-stripe set-up).
    package func apply(length: Int, inputs: [UnsafePointer<UInt8>], outputs: [UnsafeMutablePointer<UInt8>]) {
        inputs.withUnsafeBufferPointer { inputs in
            outputs.withUnsafeBufferPointer { outputs in
                apply(length: length, inputs: inputs, outputs: outputs)
            }
        }
    }
}
