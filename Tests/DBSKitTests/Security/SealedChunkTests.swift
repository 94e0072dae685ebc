import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSSecurity

/// The security layer's sealed-chunk codec (docs/FORMAT.md, "Ciphertext stream"): prefixes
/// and sealed chunks round-trip, the impossible sealed lengths are refused at both bounds, and
/// cutting a stream that arrives in arbitrary slices (the keyless walk) finds exactly
/// the sealed chunks cutting it whole (the restore) does.
@Suite("Security: sealed-chunk codec")
struct SealedChunkTests {
    let cipher = try! ChunkCipher(
        dataKey: SecureBytes(Array(UInt8(0)..<UInt8(32))), backupID: Array(UInt8(16)..<UInt8(32)))
    static let chunkSize = 3000
    static var smallest: Int { ChunkCipher.tagLength + SealedChunk.innerHeaderSize }
    static var largest: Int { SealedChunk.maximumSealedLength(chunkSize: chunkSize) }

    @Test(arguments: [0, 1, 21, 3021, 1 << 20, Int(SealedChunk.finalFlag) - 1])
    func prefixRoundTrips(length: Int) {
        for isFinal in [false, true] {
            let bytes = SealedChunk.prefix(sealedLength: length, isFinal: isFinal)
            #expect(bytes.count == SealedChunk.prefixSize)
            let parsed = SealedChunk.parsePrefix(bytes)
            #expect(parsed.length == length && parsed.isFinal == isFinal)
        }
        // Little-endian, the flag in bit 31.
        #expect(SealedChunk.prefix(sealedLength: 0x0102_0304, isFinal: true) == [4, 3, 2, 0x81])
    }

    @Test func sealedChunkRoundTrips() throws {
        let stored = Fixture.randomBytes(1234, seed: 5)
        let length = SealedChunk.length(storedCount: stored.count)
        var buffer = [UInt8](repeating: 0xEE, count: 7 + length + 9)
        try buffer.withUnsafeMutableBytes { raw in
            try SealedChunk.seal(
                encoding: 1, stored: stored, plaintextLength: 4321, index: 9, isFinal: true,
                cipher: cipher, into: raw, at: 7)
        }
        #expect(buffer.prefix(7).allSatisfy { $0 == 0xEE } && buffer.suffix(9).allSatisfy { $0 == 0xEE })
        let sealedChunk = try #require(try SealedChunk.cut(buffer, at: 7, index: 9, chunkSize: Self.chunkSize))
        #expect(
            sealedChunk
                == SealedChunk.Location(index: 9, sealed: (7 + SealedChunk.prefixSize)..<(7 + length), isFinal: true))
        let opened = try SealedChunk.open(buffer[sealedChunk.sealed], index: 9, isFinal: true, cipher: cipher)
        #expect(opened.encoding == 1 && opened.plaintextLength == 4321 && opened.stored == stored)

        // The tag binds the index, the final flag and every byte.
        #expect(throws: SealedChunkError.authenticationFailed(chunk: 8)) {
            try SealedChunk.open(buffer[sealedChunk.sealed], index: 8, isFinal: true, cipher: cipher)
        }
        #expect(throws: SealedChunkError.authenticationFailed(chunk: 9)) {
            try SealedChunk.open(buffer[sealedChunk.sealed], index: 9, isFinal: false, cipher: cipher)
        }
        var damaged = buffer
        damaged[sealedChunk.sealed.lowerBound + 100] ^= 1
        #expect(throws: SealedChunkError.authenticationFailed(chunk: 9)) {
            try SealedChunk.open(damaged[sealedChunk.sealed], index: 9, isFinal: true, cipher: cipher)
        }
        // A sealed chunk that does not fit its buffer is refused before anything is written.
        var small = [UInt8](repeating: 0, count: length - 1)
        #expect(throws: SealedChunkError.doesNotFit(chunk: 9)) {
            try small.withUnsafeMutableBytes { raw in
                try SealedChunk.seal(
                    encoding: 0, stored: stored, plaintextLength: 1234, index: 9, isFinal: false,
                    cipher: cipher, into: raw, at: 0)
            }
        }
        #expect(small.allSatisfy { $0 == 0 })
    }

    @Test func impossibleLengthsAreRefusedAtBothBounds() throws {
        for (length, possible) in [
            (0, false), (Self.smallest - 1, false), (Self.smallest, true),
            (Self.largest, true), (Self.largest + 1, false),
            (Int(SealedChunk.finalFlag) - 1, false),
        ] {
            let bytes = SealedChunk.prefix(sealedLength: length, isFinal: false)
            #expect(SealedChunk.isPossible(sealedLength: length, chunkSize: Self.chunkSize) == possible)
            if possible {
                let sealedChunk = try SealedChunk.cut(bytes, at: 0, index: 3, chunkSize: Self.chunkSize)
                #expect(sealedChunk?.sealed == 4..<(4 + length))
            } else {
                #expect(throws: SealedChunkError.impossibleLength(chunk: 3, length: length)) {
                    try SealedChunk.cut(bytes, at: 0, index: 3, chunkSize: Self.chunkSize)
                }
            }
        }
        #expect(
            SealedChunkError.impossibleLength(chunk: 3, length: 20).description
                == "chunk 3 has an impossible sealed length 20")
        // Fewer bytes than a prefix: nothing to cut yet.
        #expect(try SealedChunk.cut([1, 2, 3], at: 0, index: 0, chunkSize: Self.chunkSize) == nil)
        #expect(try SealedChunk.cut([1, 2, 3, 4, 5], at: 2, index: 0, chunkSize: Self.chunkSize) == nil)
    }

    /// A stream of sealed chunks (clear prefixes, arbitrary sealed bytes: cutting needs no
    /// key), the last one final, then padding; and its sealed chunks cut whole.
    static func stream(seed: UInt64, sealedChunks: Int) throws -> (bytes: [UInt8], whole: [SealedChunk.Location]) {
        var rng = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        for i in 0..<sealedChunks {
            let length = smallest + Int(rng.next() % UInt64(largest - smallest + 1))
            bytes += SealedChunk.prefix(sealedLength: length, isFinal: i == sealedChunks - 1)
            bytes += Fixture.randomBytes(length, seed: rng.next())
        }
        bytes += [UInt8](repeating: 0, count: Int(rng.next() % 700))
        var whole: [SealedChunk.Location] = []
        var position = 0
        while let sealedChunk = try SealedChunk.cut(
            bytes, at: position, index: UInt64(whole.count), chunkSize: chunkSize)
        {
            whole.append(sealedChunk)
            position = sealedChunk.end
            if sealedChunk.isFinal { break }
        }
        return (bytes, whole)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func cuttingAcrossSliceBoundariesEqualsCuttingWhole(seed: UInt64) throws {
        let (bytes, whole) = try Self.stream(seed: seed, sealedChunks: 12)
        #expect(whole.count == 12 && whole.last?.isFinal == true)
        var rng = SeededGenerator(seed: seed &* 77)
        // Slices of 1 to 9 bytes (prefixes split every way), and of up to two sealed chunks.
        for maximum in [9, 2 * Self.largest] {
            var walker = SealedChunkWalker(chunkSize: Self.chunkSize)
            var found: [SealedChunk.Location] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 1 + Int(rng.next() % UInt64(maximum)))
                found += walker.consume(bytes[offset..<end])
                offset = end
            }
            #expect(found == whole)
            #expect(walker.sealedChunks == 12 && walker.finalEnd == UInt64(whole.last!.end) && walker.defect == nil)
        }
    }

    @Test func anImpossiblePrefixStopsTheWalkWhereTheRestoreStops() throws {
        let (pristine, whole) = try Self.stream(seed: 11, sealedChunks: 5)
        var bytes = pristine
        let third = whole[2].sealed.lowerBound - SealedChunk.prefixSize
        bytes.replaceSubrange(
            third..<(third + 4), with: SealedChunk.prefix(sealedLength: Self.largest + 1, isFinal: false))
        #expect(throws: SealedChunkError.impossibleLength(chunk: 2, length: Self.largest + 1)) {
            try SealedChunk.cut(bytes, at: third, index: 2, chunkSize: Self.chunkSize)
        }
        var walker = SealedChunkWalker(chunkSize: Self.chunkSize)
        var offset = 0
        while offset < bytes.count {
            walker.consume(bytes[offset..<min(bytes.count, offset + 3)])
            offset += 3
        }
        #expect(walker.sealedChunks == 2 && walker.finalEnd == nil)
        #expect(walker.defect == "chunk 2 has an impossible sealed length \(Self.largest + 1)")
    }
}
