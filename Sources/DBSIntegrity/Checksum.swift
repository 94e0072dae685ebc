internal import CBlake2
internal import CXXHash

/// The per-shard checksum, a format field.
///
/// It only has to locate random corruption; it authenticates nothing (an attacker
/// recomputes an unkeyed hash), which is the GCM tags' job. XXH3-128 is the default
/// because it costs about 0.04 ns per byte here; BLAKE2b-128, about 1.5, is there for
/// those who want a cryptographic hash anyway.
public enum ChecksumAlgorithm: UInt8, Sendable, CaseIterable, Codable {
    /// XXH3 with a 128-bit result (libxxhash `XXH3_128bits`), seed 0.
    case xxh3_128 = 1
    /// BLAKE2b with a 16-byte output length (a distinct function from BLAKE2b-512
    /// truncated: the length is a parameter of the hash), unkeyed (libb2).
    case blake2b_128 = 2

    /// The name on the command line: "xxh3" or "blake2b".
    public var name: String {
        switch self {
        case .xxh3_128: return "xxh3"
        case .blake2b_128: return "blake2b"
        }
    }

    public init?(name: String) {
        guard let algorithm = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = algorithm
    }

    /// The checksum of `bytes`.
    package func digest(_ bytes: UnsafeRawBufferPointer) -> Checksum128 {
        // Both libraries accept an empty input, but not every version a null pointer.
        withUnsafeTemporaryAllocation(byteCount: Checksum128.byteCount, alignment: 8) { out in
            let input = bytes.baseAddress ?? UnsafeRawPointer(out.baseAddress!)
            switch self {
            case .xxh3_128:
                let hash = XXH3_128bits(input, bytes.count)
                // The canonical form is big-endian: the same 16 bytes on every machine.
                let canonical = out.baseAddress!.bindMemory(to: XXH128_canonical_t.self, capacity: 1)
                XXH128_canonicalFromHash(canonical, hash)
            case .blake2b_128:
                let status = blake2b(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), input, nil,
                    Checksum128.byteCount, bytes.count, 0)
                // Fails only for an out-of-range output or key length, both fixed here.
                precondition(status == 0, "blake2b rejected fixed, valid parameters")
            }
            return Checksum128(bytes: UnsafeRawBufferPointer(out))
        }
    }

    package func digest(_ bytes: [UInt8]) -> Checksum128 {
        bytes.withUnsafeBytes { digest($0) }
    }

    package func digest(_ bytes: ArraySlice<UInt8>) -> Checksum128 {
        bytes.withUnsafeBytes { digest($0) }
    }
}

/// A 128-bit checksum as stored in stripe headers: 16 bytes, in the order
/// `bytes` gives them (big-endian for XXH3's canonical form, BLAKE2b's own order).
///
/// Held as two integers so that comparing the 255 checksums of a stripe allocates
/// nothing.
package struct Checksum128: Sendable, Hashable {
    static let byteCount = 16

    /// The first eight bytes, read big-endian.
    let high: UInt64
    /// The last eight bytes, read big-endian.
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From the 16 stored bytes. A different count is a programming error (the caller
    /// slices a fixed-size field), not bad input, and traps.
    init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == Self.byteCount, "a Checksum128 is 16 bytes, got \(bytes.count)")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// The 16 bytes as stored.
    package var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        append(to: &out)
        return out
    }

    /// Appends the 16 stored bytes to `buffer` (a header being built).
    func append(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: high.bigEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: low.bigEndian) { buffer.append(contentsOf: $0) }
    }
}

extension Checksum128: CustomStringConvertible {
    /// 32 lowercase hex digits, as `xxhsum -H2` and `b2sum -l 128` print them.
    package var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(2 * Self.byteCount)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension ChecksumAlgorithm {
    /// The linked libxxhash's version, e.g. "0.8.1" (`XXH_versionNumber()`).
    package static var xxhashVersion: String {
        let n = XXH_versionNumber()
        return "\(n / 10_000).\(n / 100 % 100).\(n % 100)"
    }

    /// libb2 states no version, in its headers or at run time.
    package static var blake2Version: String { "libb2 (no version call)" }
}
