/// The reference kernel: one table lookup per byte per coefficient. Short enough to
/// be obviously correct; the other backends are tested against it.
struct ScalarKernel: RSKernel {
    var kind: RSBackendKind { .scalar }

    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix { Prepared(matrix: matrix) }

    struct Prepared: PreparedGFMatrix {
        let matrix: GFMatrix
        var rows: Int { matrix.rows }
        var columns: Int { matrix.columns }

        func apply(
            length: Int,
            inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
            outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>
        ) {
            precondition(inputs.count == columns && outputs.count == rows)
            guard length > 0 else { return }
            ScalarKernel.multiply(matrix, range: 0..<length, inputs: inputs, outputs: outputs)
        }
    }

    /// `outputs[r][range] = XOR over c of matrix[r, c] * inputs[c][range]`, byte by
    /// byte through ``GF256/productTable``. Also the tail path of the faster kernels.
    static func multiply(
        _ matrix: GFMatrix, range: Range<Int>,
        inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
        outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>
    ) {
        GF256.productTable.withUnsafeBufferPointer { table in
            for r in 0..<matrix.rows {
                let out = outputs[r]
                (out + range.lowerBound).update(repeating: 0, count: range.count)
                for c in 0..<matrix.columns {
                    let coefficient = Int(matrix[r, c])
                    if coefficient == 0 { continue }
                    let row = table.baseAddress! + coefficient << 8
                    let input = inputs[c]
                    for i in range { out[i] ^= row[Int(input[i])] }
                }
            }
        }
    }
}
