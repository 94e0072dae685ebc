#if ISAL
internal import CISAL

/// Intel ISA-L's erasure-code kernels: `ec_init_tables` expands each coefficient into
/// the 32 bytes of split-nibble tables its SIMD code shuffles with, and
/// `ec_encode_data` multiplies (SSE, AVX2, AVX-512 or NEON/SVE, picked by ISA-L at
/// run time). ISA-L handles any length itself (short buffers by its base loop, tails
/// by overlapping the last vector) and any row count (in groups of up to 6 rows).
struct ISALKernel: RSKernel {
    var kind: RSBackendKind { .isal }

    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix { Prepared(matrix: matrix) }

    /// Owns the expanded tables (32 bytes per coefficient). Written once in `init`,
    /// read-only afterwards, hence safe to share between threads.
    final class Prepared: PreparedGFMatrix, @unchecked Sendable {
        let rows: Int
        let columns: Int
        private let tables: UnsafeMutablePointer<UInt8>

        init(matrix: GFMatrix) {
            rows = matrix.rows
            columns = matrix.columns
            let count = max(1, 32 * rows * columns)
            tables = .allocate(capacity: count)
            tables.initialize(repeating: 0, count: count)
            var coefficients = matrix.elements
            if rows > 0 && columns > 0 {
                coefficients.withUnsafeMutableBufferPointer { coefficients in
                    ec_init_tables(Int32(columns), Int32(rows), coefficients.baseAddress, tables)
                }
            }
        }

        deinit { tables.deallocate() }

        func apply(
            length: Int,
            inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
            outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>
        ) {
            precondition(inputs.count == columns && outputs.count == rows)
            precondition(length <= Int(Int32.max), "ISA-L lengths are 32-bit")
            guard length > 0, rows > 0 else { return }
            guard columns > 0 else {
                for out in outputs { out.update(repeating: 0, count: length) }
                return
            }
            // ISA-L takes `unsigned char **` for both sides and only reads the inputs.
            inputs.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self) { inputs in
                outputs.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self) { outputs in
                    ec_encode_data(
                        Int32(length), Int32(columns), Int32(rows), tables,
                        UnsafeMutablePointer(mutating: inputs.baseAddress),
                        UnsafeMutablePointer(mutating: outputs.baseAddress))
                }
            }
        }
    }
}
#endif
