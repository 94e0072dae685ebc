/// Arithmetic in GF(2^8) with the reduction polynomial x^8 + x^4 + x^3 + x^2 + 1
/// (0x11D), the field Intel ISA-L uses, with generator α = 2.
///
/// Addition is XOR. Multiplication goes through log/antilog tables, built once on
/// first use. Everything here is scalar and meant for setting up matrices and for
/// per-column decoding; bulk work over shards goes through an ``RSKernel``.
package enum GF256 {
    /// The reduction polynomial, with the x^8 term.
    package static let polynomial: Int = 0x11D

    /// `exp[i]` = α^i for i in 0..<510 (doubled so `exp[log a + log b]` needs no modulo).
    @usableFromInline static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 512)
        var x = 1
        for i in 0..<255 {
            table[i] = UInt8(x)
            table[i + 255] = UInt8(x)
            x <<= 1
            if x & 0x100 != 0 { x ^= polynomial }
        }
        return table
    }()

    /// `log[a]` = i with α^i = a, for a != 0. `log[0]` is unused.
    @usableFromInline static let log: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for i in 0..<255 { table[Int(exp[i])] = UInt8(i) }
        return table
    }()

    /// a + b (and a - b): XOR.
    @inlinable package static func add(_ a: UInt8, _ b: UInt8) -> UInt8 { a ^ b }

    /// a * b.
    @inlinable package static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exp[Int(log[Int(a)]) + Int(log[Int(b)])]
    }

    /// a / b. `b` must not be zero (a programming error, trapped).
    @inlinable package static func divide(_ a: UInt8, _ b: UInt8) -> UInt8 {
        precondition(b != 0, "GF256.divide by zero")
        if a == 0 { return 0 }
        return exp[Int(log[Int(a)]) + 255 - Int(log[Int(b)])]
    }

    /// The multiplicative inverse of a non-zero element.
    @inlinable package static func inverse(_ a: UInt8) -> UInt8 { divide(1, a) }

    /// α^n for any integer n (negative exponents allowed).
    @inlinable package static func alphaPower(_ n: Int) -> UInt8 {
        let e = ((n % 255) + 255) % 255
        return exp[e]
    }

    /// a^n for n >= 0.
    @inlinable package static func power(_ a: UInt8, _ n: Int) -> UInt8 {
        if n == 0 { return 1 }
        if a == 0 { return 0 }
        return exp[(Int(log[Int(a)]) * n) % 255]
    }

    /// The discrete logarithm of a non-zero element (0..<255).
    @inlinable package static func logarithm(_ a: UInt8) -> Int {
        precondition(a != 0, "GF256.logarithm of zero")
        return Int(log[Int(a)])
    }

    /// The full 256 x 256 product table, row-major (`table[a << 8 | b]` = a * b),
    /// for the scalar reference kernel.
    static let productTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 65536)
        for a in 0..<256 {
            for b in 0..<256 { table[a << 8 | b] = multiply(UInt8(a), UInt8(b)) }
        }
        return table
    }()
}
