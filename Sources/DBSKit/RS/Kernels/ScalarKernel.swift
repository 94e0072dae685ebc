/// The reference kernel: one table lookup per byte per coefficient. Short enough to
/// be obviously correct; the other backends are tested against it.
struct ScalarKernel: RSKernel {
    var kind: RSBackendKind { .scalar }

    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix { Prepared(matrix: matrix) }

    struct Prepared: PreparedGFMatrix {
        let matrix: GFMatrix
        var rows: Int { matrix.rows }
        var columns: Int { matrix.columns }

        func apply(length: Int,
                   inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
                   outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>) {
            precondition(inputs.count == columns && outputs.count == rows)
            GF256.productTable.withUnsafeBufferPointer { table in
                for r in 0..<rows {
                    let out = outputs[r]
                    out.update(repeating: 0, count: length)
                    for c in 0..<columns {
                        let coefficient = Int(matrix[r, c])
                        if coefficient == 0 { continue }
                        let row = table.baseAddress! + coefficient << 8
                        let input = inputs[c]
                        for i in 0..<length { out[i] ^= row[Int(input[i])] }
                    }
                }
            }
        }
    }
}
