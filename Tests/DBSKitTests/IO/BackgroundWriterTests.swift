import DBSTestSupport
import Foundation
import Synchronization
import Testing

@testable import DBSIO
@testable import DBSKit
@testable import DBSSystem

/// The writer thread behind the backup's records: every write lands at its offset
/// whatever the order of submission, from arrays or from pipeline buffers, and the
/// first failure is never lost (the next `submit` or `drain` throws it, and keeps
/// throwing it).
@Suite("IO: background writer")
struct BackgroundWriterTests {
    /// Completions run on the writer's thread (an escaping closure: it holds a class).
    final class Completions: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test(arguments: [1, 2, 4])
    func writesLandAtTheirOffsets(depth: Int) throws {
        let work = TemporaryDirectory()
        let path = work.sub("out")
        let file = try PositionedFile.createExclusive(path)
        let writer = BackgroundWriter(file: file, depth: depth)
        var rng = SeededGenerator(seed: 7)
        let size = 64 * 1024
        let expected = rng.bytes(size)
        // Pieces of 4 KiB submitted back to front, three per submission, half of them
        // from an aligned buffer (a range of it, as the sealing stage hands them).
        let buffer = AlignedBuffer(count: size)
        expected.withUnsafeBytes { _ = buffer.copy($0, to: 0) }
        let completions = Completions()
        var submissions = 0
        var pieces = Array(stride(from: 0, to: size, by: 4096).reversed())
        while !pieces.isEmpty {
            let batch = pieces.prefix(3)
            pieces.removeFirst(batch.count)
            let writes = batch.map { start -> BackgroundWriter.Write in
                start % 8192 == 0
                    ? .init(bytes: expected[start..<(start + 4096)], offset: UInt64(start))
                    : .init(buffer: buffer, range: start..<(start + 4096), offset: UInt64(start))
            }
            try writer.submit(writes) { completions.count.add(1, ordering: .relaxed) }
            submissions += 1
        }
        try writer.drain()
        #expect(completions.count.load(ordering: .relaxed) == submissions)
        #expect(try file.size() == UInt64(size))
        #expect(try file.read(count: size, at: 0) == expected)
    }

    @Test func aFailureSurfacesOnDrainAndOnEverySubmitAfter() throws {
        let work = TemporaryDirectory()
        let path = work.sub("read-only")
        try TreeBuilder.write(path, [0, 0, 0, 0])
        // Opened read-only: every pwrite fails with EBADF, on the writer's thread.
        let file = try PositionedFile.openForReading(path)
        let writer = BackgroundWriter(file: file)
        let completions = Completions()
        try writer.submit([.init(bytes: [1, 2][...], offset: 0)]) { completions.count.add(1, ordering: .relaxed) }
        let failure: IOError
        do {
            try writer.drain()
            Issue.record("drain did not throw the write's failure")
            return
        } catch {
            failure = error
        }
        #expect(failure.errno == EBADF)
        #expect(failure.path == path)
        // The failure stays: a later submit is refused, a later drain throws it again.
        #expect(throws: failure) { try writer.submit([.init(bytes: [3][...], offset: 0)]) }
        #expect(throws: failure) { try writer.drain() }
        #expect(throws: failure) { try writer.drain() }
        #expect(completions.count.load(ordering: .relaxed) == 1, "the completion runs even for a failed submission")
        #expect(try file.read(count: 4, at: 0) == [0, 0, 0, 0])
    }

    /// Writes queued behind a failed one are skipped, but their completions still run
    /// (a pool takes its buffers back there).
    @Test func writesQueuedAfterAFailureAreSkippedAndCompleted() throws {
        let work = TemporaryDirectory()
        let path = work.sub("read-only")
        try TreeBuilder.write(path, [0])
        let writer = BackgroundWriter(file: try PositionedFile.openForReading(path), depth: 4)
        let completions = Completions()
        var accepted = 0
        for i in 0..<4 {
            do {
                try writer.submit([.init(bytes: [UInt8(i)][...], offset: UInt64(i))]) {
                    completions.count.add(1, ordering: .relaxed)
                }
                accepted += 1
            } catch {
                break  // the first failure arrived before this submission
            }
        }
        #expect(throws: IOError.self) { try writer.drain() }
        #expect(accepted >= 1)
        #expect(completions.count.load(ordering: .relaxed) == accepted)
    }

    @Test func drainWithNothingSubmittedSucceeds() throws {
        let work = TemporaryDirectory()
        let writer = BackgroundWriter(file: try PositionedFile.createExclusive(work.sub("empty")))
        try writer.drain()
        try writer.drain()
    }
}
