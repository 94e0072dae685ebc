import Testing

@testable import DBSKit
@testable import DBSReedSolomon

@Suite("GF(2^8) over 0x11D")
struct GF256Tests {
    @Test func knownProducts() {
        // Values derived by hand from the polynomial: x^8 = x^4 + x^3 + x^2 + 1 = 0x1D.
        #expect(GF256.alphaPower(8) == 0x1D)
        #expect(GF256.multiply(0x80, 0x02) == 0x1D)
        #expect(GF256.multiply(0x02, 0x02) == 0x04)
        #expect(GF256.alphaPower(255) == 1)
    }

    @Test func fieldAxiomsHoldForEveryPair() {
        for a in 0..<256 {
            let x = UInt8(a)
            #expect(GF256.multiply(x, 1) == x)
            #expect(GF256.multiply(x, 0) == 0)
            if x != 0 { #expect(GF256.multiply(x, GF256.inverse(x)) == 1) }
            for b in 0..<256 {
                let y = UInt8(b)
                let p = GF256.multiply(x, y)
                if p != GF256.multiply(y, x) { Issue.record("not commutative at \(a), \(b)") }
                if y != 0, GF256.divide(p, y) != x { Issue.record("divide does not undo multiply at \(a), \(b)") }
                if GF256.productTable[a << 8 | b] != p { Issue.record("product table differs at \(a), \(b)") }
            }
        }
    }

    @Test func multiplicationMatchesCarryLessReduction() {
        // Russian-peasant multiplication reduced by 0x11D, independent of the tables.
        func slow(_ a: UInt8, _ b: UInt8) -> UInt8 {
            var a = Int(a)
            var b = Int(b)
            var p = 0
            while b != 0 {
                if b & 1 != 0 { p ^= a }
                a <<= 1
                if a & 0x100 != 0 { a ^= 0x11D }
                b >>= 1
            }
            return UInt8(p)
        }
        for a in stride(from: 0, to: 256, by: 7) {
            for b in 0..<256 { #expect(GF256.multiply(UInt8(a), UInt8(b)) == slow(UInt8(a), UInt8(b))) }
        }
    }

    @Test func matrixInverseRoundTrips() throws {
        for size in [1, 2, 5, 16, 40] {
            // A Vandermonde matrix on distinct points is invertible.
            var m = GFMatrix(rows: size, columns: size)
            for r in 0..<size { for c in 0..<size { m[r, c] = GF256.power(GF256.alphaPower(r), c) } }
            let inv = try #require(m.inverted())
            #expect(m.multiplied(by: inv) == GFMatrix.identity(size))
        }
        var singular = GFMatrix(rows: 2, columns: 2, elements: [1, 2, 2, 4])
        #expect(singular.inverted() == nil)
        singular[1, 1] = 5
        #expect(singular.inverted() != nil)
    }
}
