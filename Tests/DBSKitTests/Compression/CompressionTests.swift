import DBSSecurity
import Testing

@testable import DBSCompression
@testable import DBSKit

@Suite("Compression: zstd chunk codec")
struct CompressionTests {
    /// About 1 MiB of varied text: compresses well but not trivially.
    static let text: [UInt8] = {
        var out = [UInt8]()
        var line = 0
        while out.count < 1 << 20 {
            out += Array(
                "\(line)\t{\"model\": \"shop.order\", \"pk\": \(line * 7919 % 100_003), \"fields\": {\"total\": \"\(line % 997).\(line % 100)\"}}\n"
                    .utf8)
            line += 1
        }
        return Array(out.prefix(1 << 20))
    }()

    static func random(_ count: Int) throws -> [UInt8] { try SecureRandom.bytes(count) }

    @Test func levelsAreValidatedAgainstLibzstd() throws {
        #expect(try ChunkCompressor().level == 1)
        let range = ChunkCompressor.levelRange
        #expect(range.contains(1) && range.contains(19) && range.lowerBound < 0)
        #expect(try ChunkCompressor(level: range.upperBound).level == range.upperBound)
        #expect(throws: CompressionError.levelOutOfRange(level: range.upperBound + 1, range: range)) {
            try ChunkCompressor(level: range.upperBound + 1)
        }
        #expect(throws: CompressionError.levelOutOfRange(level: .min, range: range)) {
            try ChunkCompressor(level: .min)
        }
    }

    @Test func emptyAndOneByteAreStoredRaw() throws {
        let codec = try ChunkCompressor()
        for plaintext in [[], [0x41]] as [[UInt8]] {
            let (encoding, bytes) = try codec.encode(plaintext)
            #expect(encoding == .raw && bytes == plaintext)
            #expect(try codec.decode(bytes, encoding: encoding, plaintextLength: plaintext.count) == plaintext)
        }
    }

    @Test func textShrinksAndRoundTrips() throws {
        let codec = try ChunkCompressor()
        let (encoding, bytes) = try codec.encode(Self.text)
        #expect(encoding == .zstd)
        #expect(bytes.count * 3 < Self.text.count, "ratio \(Double(Self.text.count) / Double(bytes.count))")
        #expect(try codec.decode(bytes, encoding: .zstd, plaintextLength: Self.text.count) == Self.text)
        // A higher level is no worse and decodes with any codec.
        let (_, stronger) = try ChunkCompressor(level: 9).encode(Self.text)
        #expect(stronger.count <= bytes.count)
        #expect(try codec.decode(stronger, encoding: .zstd, plaintextLength: Self.text.count) == Self.text)
    }

    @Test func randomDataIsStoredRaw() throws {
        let codec = try ChunkCompressor()
        for size in [100, 4096, 1 << 20] {
            let plaintext = try Self.random(size)
            let (encoding, bytes) = try codec.encode(plaintext)
            #expect(encoding == .raw && bytes == plaintext)
            #expect(try codec.decode(bytes, encoding: .raw, plaintextLength: size) == plaintext)
        }
    }

    @Test func theTwoPercentRule() throws {
        let codec = try ChunkCompressor()
        // 10 000 random bytes plus a run of zeros: the run decides whether the
        // saving reaches 2%. Around the threshold the choice follows the rule exactly.
        let random = try Self.random(10_000)
        var sawRaw = false
        var sawZstd = false
        for zeros in stride(from: 0, through: 600, by: 20) {
            let plaintext = random + [UInt8](repeating: 0, count: zeros)
            let (encoding, bytes) = try codec.encode(plaintext)
            let limit = Double(plaintext.count) * (1 - ChunkCompressor.minimumSaving)
            switch encoding {
            case .raw:
                sawRaw = true
                #expect(bytes == plaintext)
            case .zstd:
                sawZstd = true
                #expect(Double(bytes.count) <= limit, "\(bytes.count) of \(plaintext.count)")
            }
            #expect(try codec.decode(bytes, encoding: encoding, plaintextLength: plaintext.count) == plaintext)
        }
        #expect(sawRaw && sawZstd)
    }

    @Test func declaredLengthMustMatch() throws {
        let codec = try ChunkCompressor()
        let (_, frame) = try codec.encode(Self.text)
        let n = Self.text.count
        #expect(throws: CompressionError.contentSizeMismatch(declared: n - 1, frameContentSize: UInt64(n))) {
            try codec.decode(frame, encoding: .zstd, plaintextLength: n - 1)
        }
        #expect(throws: CompressionError.contentSizeMismatch(declared: n + 1, frameContentSize: UInt64(n))) {
            try codec.decode(frame, encoding: .zstd, plaintextLength: n + 1)
        }
        #expect(throws: CompressionError.invalidPlaintextLength(-1)) {
            try codec.decode(frame, encoding: .zstd, plaintextLength: -1)
        }
        #expect(throws: CompressionError.invalidPlaintextLength(Int.max)) {
            try codec.decode(frame, encoding: .zstd, plaintextLength: .max)
        }
        #expect(throws: CompressionError.rawLengthMismatch(declared: 5, actual: 4)) {
            try codec.decode([1, 2, 3, 4], encoding: .raw, plaintextLength: 5)
        }
    }

    @Test func corruptFramesAreErrorsNotCrashes() throws {
        let codec = try ChunkCompressor()
        let (_, frame) = try codec.encode(Self.text)
        let n = Self.text.count
        // Not zstd at all, empty, truncated, trailing bytes.
        for bytes in [Array("not a zstd frame".utf8), [], Array(frame.prefix(frame.count / 2)), frame + [0]] {
            #expect(throws: CompressionError.self) { try codec.decode(bytes, encoding: .zstd, plaintextLength: n) }
        }
        // Damage in the body: an error, or (if the damage hit only literals) different
        // bytes of the right length; never a crash, never more than declared. The GCM
        // tag catches such damage before decompression in the real pipeline.
        var generator = SystemRandomNumberGenerator()
        var errors = 0
        for _ in 0..<200 {
            var damaged = frame
            for _ in 0..<(1 + Int.random(in: 0..<4, using: &generator)) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] ^= UInt8.random(
                    in: 1...255, using: &generator)
            }
            do {
                let out = try codec.decode(damaged, encoding: .zstd, plaintextLength: n)
                #expect(out.count == n)
            } catch {
                errors += 1
            }
        }
        #expect(errors > 100)
    }

    @Test func hostileFrameHeadersAllocateNothingBeyondTheDeclaredLength() throws {
        let codec = try ChunkCompressor()
        // A valid frame for 1 GiB of zeros is tiny; declared as 1 MiB it is refused by
        // its header before any allocation.
        let huge = [UInt8](repeating: 0, count: 1 << 22)
        let (encoding, frame) = try codec.encode(huge)
        #expect(encoding == .zstd)
        #expect(throws: CompressionError.contentSizeMismatch(declared: 1 << 20, frameContentSize: 1 << 22)) {
            try codec.decode(frame, encoding: .zstd, plaintextLength: 1 << 20)
        }
    }
}
