import DBSIO
import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSPayload

/// Damaged, truncated and arbitrary streams: the reader always ends in a clear
/// error, never a crash, a hang, or a huge allocation.
@Suite("Payload reader on damaged input")
struct PayloadCorruptionTests {
    /// A small payload with every kind of frame, for exhaustive damage.
    static func smallPayload() throws -> [UInt8] {
        try makePayload(
            [
                TestEntry(
                    metadata: EntryMetadata(path: "d", kind: .directory, mode: 0o755, modificationTime: timestamp(1, 2))
                ),
                TestEntry(
                    metadata: EntryMetadata(
                        path: "d/f", kind: .file, mode: 0o644, modificationTime: timestamp(3, 4), size: 11),
                    content: Array("hello world".utf8)),
                TestEntry(
                    metadata: EntryMetadata(
                        path: "d/l", kind: .symlink, mode: 0o777, modificationTime: timestamp(5),
                        linkTarget: "f")),
                TestEntry(
                    metadata: EntryMetadata(
                        path: "r", kind: .records, mode: 0o600, modificationTime: timestamp(6),
                        isStreamed: true, modelLabel: "a.B", extra: ["k": "v"]),
                    content: Array("{}\n".utf8)),
            ], metadata: ["app": "x"])
    }

    /// Reads everything, returning the error that stopped it (nil if none).
    static func readError(_ bytes: [UInt8]) -> (any Error)? {
        do {
            _ = try readPayload(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyTruncationIsUnexpectedEnd() throws {
        let bytes = try Self.smallPayload()
        for length in 0..<bytes.count {
            let error = Self.readError(Array(bytes[0..<length]))
            #expect(error as? PayloadError == .unexpectedEnd, "truncated at \(length): \(String(describing: error))")
        }
        #expect(Self.readError(bytes) == nil)
    }

    @Test func trailingBytesAreRefused() throws {
        let bytes = try Self.smallPayload()
        #expect(Self.readError(bytes + [0]) as? PayloadError == .malformedFrame("bytes follow the end frame"))
    }

    @Test func everySingleBitFlipIsDetected() throws {
        let bytes = try Self.smallPayload()
        for position in 0..<bytes.count {
            for bit in [0, 5] {
                var damaged = bytes
                damaged[position] ^= 1 << bit
                if Self.readError(damaged) == nil {
                    Issue.record("a flip of bit \(bit) at byte \(position) went unnoticed")
                }
            }
        }
    }

    @Test func contentDamageNamesTheEntry() throws {
        var bytes = try Self.smallPayload()
        let at = try #require(firstIndex(of: Array("hello world".utf8), in: bytes))
        bytes[at + 4] = UInt8(ascii: "0")
        #expect(Self.readError(bytes) as? PayloadError == .contentHashMismatch(path: "d/f"))
    }

    @Test func headerProblemsAreNamed() throws {
        let bytes = try Self.smallPayload()
        #expect(Self.readError([]) as? PayloadError == .unexpectedEnd)
        var version = bytes
        version[6 + 8] = 3  // the payload format version, low byte
        #expect(Self.readError(version) as? PayloadError == .unsupportedVersion(found: 3, supported: 2))
        var magic = bytes
        magic[6] = UInt8(ascii: "X")
        #expect(Self.readError(magic) as? PayloadError == .notAPayload)
        var frameVersion = bytes
        frameVersion[1] = 9
        #expect(Self.readError(frameVersion) as? PayloadError == .unsupportedFrameVersion(frameType: 1, version: 9))
        var type = bytes
        type[0] = 0x55
        #expect(Self.readError(type) as? PayloadError == .unknownFrameType(0x55))
        #expect(Self.readError(Array("not a payload at all".utf8)) != nil)
    }

    @Test func hugeLengthsAreRefusedBeforeAllocation() throws {
        let bytes = try Self.smallPayload()
        var huge = bytes
        huge.replaceSubrange(2..<6, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(
            Self.readError(huge) as? PayloadError
                == .frameTooLarge(frameType: 1, length: 0xFFFF_FFFF, limit: 10))
        // A chunk frame one byte over the limit, in an otherwise valid prefix.
        let prefixLength = try #require(firstIndex(of: Array("hello world".utf8), in: bytes)) - 6
        var chunk = Array(bytes[0..<prefixLength])
        chunk +=
            [0x11, 1] + withUnsafeBytes(of: UInt32(PayloadFormat.maxContentFrameSize + 1).littleEndian, Array.init)
        #expect(
            Self.readError(chunk) as? PayloadError
                == .frameTooLarge(
                    frameType: 0x11, length: UInt64(PayloadFormat.maxContentFrameSize + 1),
                    limit: PayloadFormat.maxContentFrameSize))
    }

    @Test func randomBytesNeverCrashOrHang() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let bytes = random.bytes(Int.random(in: 0...512, using: &random))
            #expect(Self.readError(bytes) != nil)
        }
    }

    /// Random frames behind a valid header and metadata: the reader goes deep into
    /// its state machine and must still refuse.
    @Test func randomFramesAfterAValidHeaderAreRefused() throws {
        let valid = try Self.smallPayload()
        let headerAndMetadata = 6 + 10 + 6 + (Int(valid[18]) | Int(valid[19]) << 8)
        let prefix = Array(valid[0..<headerAndMetadata])
        let types: [UInt8] = [0x01, 0x02, 0x10, 0x11, 0x12, 0x7F, 0x33]
        var random = SeededGenerator(seed: 11)
        for _ in 0..<3000 {
            var bytes = prefix
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let body = random.bytes(Int.random(in: 0...60, using: &random))
                var length = UInt32(body.count)
                if Int.random(in: 0..<10, using: &random) == 0 {
                    length = UInt32.random(in: 0...UInt32.max, using: &random)
                }
                bytes += [types.randomElement(using: &random)!, 1]
                bytes += withUnsafeBytes(of: length.littleEndian, Array.init)
                bytes += body
            }
            #expect(Self.readError(bytes) != nil)
        }
    }

    @Test func randomMutationsOfAValidPayloadAreRefused() throws {
        let valid = try Self.smallPayload()
        var random = SeededGenerator(seed: 13)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: position)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                }
            }
            if bytes == valid { continue }
            #expect(Self.readError(bytes) != nil)
        }
    }

    @Test func errorsPoisonTheReader() throws {
        var bytes = try Self.smallPayload()
        let at = try #require(firstIndex(of: Array("hello world".utf8), in: bytes))
        bytes[at] ^= 1
        let reader = try PayloadReader(source: MemorySource(bytes))
        _ = try reader.nextEntry()
        _ = try reader.nextEntry()
        #expect(throws: PayloadError.contentHashMismatch(path: "d/f")) { try reader.skipContent() }
        #expect(throws: PayloadError.contentHashMismatch(path: "d/f")) { _ = try reader.nextEntry() }
    }
}
