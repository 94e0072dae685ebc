/// A dense matrix over GF(2^8), row-major. Small: parity, syndrome and decoding
/// matrices of at most 255 x 255.
package struct GFMatrix: Sendable, Equatable {
    package let rows: Int
    package let columns: Int
    /// Row-major coefficients, `rows * columns` of them.
    package private(set) var elements: [UInt8]

    package init(rows: Int, columns: Int, elements: [UInt8]) {
        precondition(
            rows >= 0 && columns >= 0 && elements.count == rows * columns,
            "GFMatrix: \(elements.count) elements for \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    package init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, elements: [UInt8](repeating: 0, count: rows * columns))
    }

    package static func identity(_ size: Int) -> GFMatrix {
        var m = GFMatrix(rows: size, columns: size)
        for i in 0..<size { m[i, i] = 1 }
        return m
    }

    package subscript(row: Int, column: Int) -> UInt8 {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    /// The product self x other.
    package func multiplied(by other: GFMatrix) -> GFMatrix {
        precondition(columns == other.rows, "GFMatrix: \(rows)x\(columns) times \(other.rows)x\(other.columns)")
        var result = GFMatrix(rows: rows, columns: other.columns)
        for r in 0..<rows {
            for i in 0..<columns {
                let a = self[r, i]
                if a == 0 { continue }
                for c in 0..<other.columns {
                    result[r, c] ^= GF256.multiply(a, other[i, c])
                }
            }
        }
        return result
    }

    /// The inverse by Gauss-Jordan elimination, or nil when the matrix is singular.
    package func inverted() -> GFMatrix? {
        precondition(rows == columns, "GFMatrix: inverse of a \(rows)x\(columns) matrix")
        let n = rows
        var a = self
        var inv = GFMatrix.identity(n)
        for col in 0..<n {
            guard let pivot = (col..<n).first(where: { a[$0, col] != 0 }) else { return nil }
            if pivot != col {
                for c in 0..<n {
                    a.elements.swapAt(pivot * n + c, col * n + c)
                    inv.elements.swapAt(pivot * n + c, col * n + c)
                }
            }
            let scale = GF256.inverse(a[col, col])
            for c in 0..<n {
                a[col, c] = GF256.multiply(a[col, c], scale)
                inv[col, c] = GF256.multiply(inv[col, c], scale)
            }
            for r in 0..<n where r != col {
                let factor = a[r, col]
                if factor == 0 { continue }
                for c in 0..<n {
                    a[r, c] ^= GF256.multiply(factor, a[col, c])
                    inv[r, c] ^= GF256.multiply(factor, inv[col, c])
                }
            }
        }
        return inv
    }

    /// The rows at the given indices, in that order.
    package func selectingRows(_ indices: [Int]) -> GFMatrix {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * columns)
        for r in indices { out.append(contentsOf: elements[(r * columns)..<((r + 1) * columns)]) }
        return GFMatrix(rows: indices.count, columns: columns, elements: out)
    }

    /// The columns at the given indices, in that order.
    package func selectingColumns(_ indices: [Int]) -> GFMatrix {
        var out = [UInt8]()
        out.reserveCapacity(rows * indices.count)
        for r in 0..<rows { for c in indices { out.append(self[r, c]) } }
        return GFMatrix(rows: rows, columns: indices.count, elements: out)
    }
}
