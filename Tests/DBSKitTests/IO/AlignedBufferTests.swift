import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit
@testable import DBSReedSolomon

@Suite("IO: aligned batch buffers and Reed-Solomon over them")
struct AlignedBufferTests {
    @Test(arguments: [(0, 0), (16, 16), (48, 48), (4097, 1), (-16, 4080)])
    func firstByteSitsAtTheAskedPageOffset(asked: Int, expected: Int) {
        let buffer = AlignedBuffer(count: 10_000, pageOffset: asked)
        #expect(buffer.pageOffset == expected)
        #expect(buffer.count == 10_000)
        #expect(buffer[0..<10_000] == [UInt8](repeating: 0, count: 10_000))
    }

    @Test func copiesAreBoundsCheckedAndZeroAndSubscriptClamp() {
        let buffer = AlignedBuffer(count: 8)
        let bytes: [UInt8] = [1, 2, 3]
        #expect(bytes.withUnsafeBytes { buffer.copy($0, to: 5) })
        #expect(!bytes.withUnsafeBytes { buffer.copy($0, to: 6) })
        #expect(!bytes.withUnsafeBytes { buffer.copy($0, to: -1) })
        #expect(buffer[0..<100] == [0, 0, 0, 0, 0, 1, 2, 3])
        // Overlapping copy within the buffer (memmove semantics).
        buffer.withUnsafeBytes { whole in
            _ = buffer.copy(UnsafeRawBufferPointer(rebasing: whole[5..<8]), to: 4)
        }
        #expect(buffer[0..<8] == [0, 0, 0, 0, 1, 2, 3, 3])
        buffer.zero(6..<50)
        #expect(buffer[0..<8] == [0, 0, 0, 0, 1, 2, 0, 0])
        #expect(AlignedBuffer(count: -3).count == 0)
    }

    @Test(arguments: RSBackendKind.allCases)
    func encodingOverAlignedBuffersMatchesTheArrayAPI(backend: RSBackendKind) throws {
        guard let code = try makeCode(dataShards: 10, parityShards: 4, backend: backend) else { return }
        let shard = 100
        let stripes = 3
        let n = 14
        let k = 10
        let m = 4
        var generator = SeededGenerator(seed: 77)
        var expected = [UInt8](repeating: 0, count: stripes * n * shard)
        for s in 0..<stripes {
            expected.replaceSubrange((s * n * shard)..<(s * n * shard + k * shard), with: generator.bytes(k * shard))
        }
        let interleaved = AlignedBuffer(count: expected.count)
        expected.withUnsafeBytes { _ = interleaved.copy($0, to: 0) }
        try code.encode(stripes: &expected, shardLength: shard, threads: 2)
        try code.encode(stripes: interleaved, shardLength: shard, threads: 2)
        #expect(interleaved[0..<expected.count] == expected)

        // Data back to back in one buffer, parity in another.
        let data = AlignedBuffer(count: stripes * k * shard + 7)
        let parity = AlignedBuffer(count: stripes * m * shard + 3)
        for s in 0..<stripes {
            expected[(s * n * shard)..<(s * n * shard + k * shard)].withUnsafeBytes {
                _ = data.copy($0, to: 7 + s * k * shard)
            }
        }
        for s in 0..<stripes {
            try code.encode(
                data: data, at: 7 + s * k * shard, parity: parity, at: 3 + s * m * shard, shardLength: shard)
            #expect(
                parity[(3 + s * m * shard)..<(3 + (s + 1) * m * shard)]
                    == Array(expected[(s * n * shard + k * shard)..<((s + 1) * n * shard)]))
        }
    }

    @Test func separateBufferEncodingRefusesBadRanges() throws {
        let code = try ReedSolomon(dataShards: 4, parityShards: 2)
        let data = AlignedBuffer(count: 400)
        let parity = AlignedBuffer(count: 200)
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 401, actual: 400)) {
            try code.encode(data: data, at: 1, parity: parity, at: 0, shardLength: 100)
        }
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 201, actual: 200)) {
            try code.encode(data: data, at: 0, parity: parity, at: 1, shardLength: 100)
        }
        #expect(throws: ReedSolomonError.bufferSizeMismatch(expected: 400, actual: 400)) {
            try code.encode(data: data, at: -1, parity: parity, at: 0, shardLength: 100)
        }
        #expect(throws: ReedSolomonError.invalidShardLength(0)) {
            try code.encode(data: data, at: 0, parity: parity, at: 0, shardLength: 0)
        }
        // Parity overlapping the data of the same buffer.
        let both = AlignedBuffer(count: 1000)
        #expect(throws: ReedSolomonError.self) {
            try code.encode(data: both, at: 0, parity: both, at: 300, shardLength: 100)
        }
        try code.encode(data: both, at: 0, parity: both, at: 400, shardLength: 100)
    }

    /// Opt-in (`DBS_LARGE_TESTS=1`, release build): the default kernel's encode speed
    /// for 239 + 16 shards of 4 KiB at several distances past a page boundary, one
    /// thread: where `AlignedBuffer.defaultPageOffset` comes from.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DBS_LARGE_TESTS"] == "1"))
    func encodeSpeedByPageOffset() throws {
        let code = try ReedSolomon(dataShards: 239, parityShards: 16)
        let stripes = 8
        let stripe = 255 * 4096
        var generator = SeededGenerator(seed: 3)
        let data = generator.bytes(239 * 4096)
        var line = "timing: \(code.backend) encode GB/s of data by page offset:"
        for offset in [0, 16, 32, 48, 64, 2048] {
            let buffer = AlignedBuffer(count: stripes * stripe, pageOffset: offset)
            for s in 0..<stripes { data.withUnsafeBytes { _ = buffer.copy($0, to: s * stripe) } }
            var best = Double.infinity
            for _ in 0..<5 {
                let start = Date()
                for _ in 0..<8 { try code.encode(stripes: buffer, shardLength: 4096, threads: 1) }
                best = min(best, Date().timeIntervalSince(start))
            }
            line += " \(offset): \(String(format: "%.2f", Double(8 * stripes * 239 * 4096) / best / 1e9))"
        }
        print(line)
    }
}
