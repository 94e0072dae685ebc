/// A file name, path or link target as the kernel has it: a string of bytes.
///
/// Linux names are any bytes but '/' (between components) and NUL; they are usually
/// UTF-8 but need not be (a tree copied from an old Latin-1 system, a name a program
/// made from raw bytes). A Swift `String` cannot hold invalid UTF-8, and compares
/// and hashes by canonical equivalence ("é" precomposed equals "e" + U+0301), which
/// would merge two distinct files. So an entry's path is this: equal, hashed and
/// ordered by its bytes, nothing normalised, nothing replaced.
///
/// `description` is the one escaped form messages and `dbs list` show (`escaped`).
public struct PathBytes: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByStringInterpolation
{
    /// The bytes, without a terminating NUL.
    public let bytes: [UInt8]

    public init(bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }

    /// The UTF-8 bytes of `string`, unchanged (no normalisation).
    public init(_ string: String) { bytes = Array(string.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    public init(stringInterpolation: DefaultStringInterpolation) {
        self.init(String(stringInterpolation: stringInterpolation))
    }

    /// The path as text when it is valid UTF-8; nil when it is not.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    public var isUTF8: Bool {
        // ASCII, the common case, without building a String.
        bytes.allSatisfy { $0 < 0x80 } || string != nil
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// The text with every byte that is not valid UTF-8 replaced by U+FFFD: for
    /// display where the exact bytes travel beside it (`--json`'s `path_bytes`).
    public var lossyString: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { escaped }

    /// The path as one line of text that says exactly which bytes it has: a byte that
    /// is not part of valid UTF-8 as `\xNN`, C0 controls and DEL as `\xNN` too (`\n`,
    /// `\t`, `\r` for the common ones), C1 controls and the line and paragraph
    /// separators as `\u{NN}`, the backslash as `\\`; everything else as is. So a name
    /// can neither forge lines nor drive a terminal, and an escape always means the
    /// bytes it spells. (Valid UTF-8 shows as its characters: the NFC and NFD forms of
    /// "é" look alike, as in `ls`; their bytes differ, and `--json` carries them.)
    public var escaped: String {
        // Printable ASCII without a backslash, the common case, is its own escape.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return String(decoding: bytes, as: UTF8.self) }
        var out = ""
        var index = 0
        while index < bytes.count {
            guard let (scalar, length) = Self.scalar(in: bytes, at: index) else {
                out += Self.hexEscape(bytes[index])
                index += 1
                continue
            }
            index += length
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{0}"..."\u{1F}", "\u{7F}": out += Self.hexEscape(UInt8(scalar.value))
            case "\u{80}"..."\u{9F}", "\u{2028}", "\u{2029}":
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `self`, then "/", then `component`.
    package func appending(_ component: PathBytes) -> PathBytes {
        PathBytes(bytes: bytes + [0x2F] + component.bytes)
    }

    /// The parts between '/' bytes, empty ones included ("a//b" has three).
    public var components: [PathBytes] {
        bytes.split(separator: 0x2F, omittingEmptySubsequences: false).map { PathBytes(bytes: $0) }
    }

    /// `components` joined with '/'.
    public init(joining components: some Sequence<PathBytes>) {
        var joined: [UInt8] = []
        for (index, component) in components.enumerated() {
            if index > 0 { joined.append(0x2F) }
            joined += component.bytes
        }
        bytes = joined
    }

    /// Calls `body` with the bytes as a NUL-terminated C string (for the system calls
    /// that take a name). The bytes must not contain NUL: the kernel would see a
    /// shorter name (entry paths and link targets are checked for it first).
    public func withCString<R, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        var terminated = bytes
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { buffer throws(E) in
            try buffer.withMemoryRebound(to: CChar.self) { characters throws(E) in try body(characters.baseAddress!) }
        }
    }

    public static func < (lhs: PathBytes, rhs: PathBytes) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Valid UTF-8 is encoded as a string, anything else as an array of byte values.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self.init(string)
        } else {
            self.init(bytes: try container.decode([UInt8].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let string { try container.encode(string) } else { try container.encode(bytes) }
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }

    /// The Unicode scalar whose well-formed UTF-8 starts at `index` and its length,
    /// or nil when the bytes there are not well-formed UTF-8 (a stray continuation
    /// byte, an overlong form, a surrogate, a value past U+10FFFF, a cut sequence).
    static func scalar(in bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int
        var value: UInt32
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF:
            length = 2
            value = UInt32(lead & 0x1F)
        case 0xE0:
            length = 3
            value = 0
            lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF:
            length = 3
            value = UInt32(lead & 0x0F)
        case 0xED:
            length = 3
            value = 0x0D
            highest = 0x9F
        case 0xF0:
            length = 4
            value = 0
            lowest = 0x90
        case 0xF1...0xF3:
            length = 4
            value = UInt32(lead & 0x07)
        case 0xF4:
            length = 4
            value = 4
            highest = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (low, high) = offset == 1 ? (lowest, highest) : (0x80, 0xBF)
            guard byte >= low, byte <= high else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }
}
