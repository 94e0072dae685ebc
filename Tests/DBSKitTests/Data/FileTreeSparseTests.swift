import DBSIO
import DBSSystem
import Foundation
import Testing

@testable import DBSKit

/// A sink writing into a pipe: backup and restore run at once, so nothing holds
/// the whole payload.
final class PipeSink: ByteSink {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { throw DataError.io(path: "pipe", operation: "write", errno: errno) }
            offset += n
        }
    }
}

final class PipeSource: ByteSource {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    func read(into buffer: inout [UInt8], maxLength: Int) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: min(maxLength, 1 << 20))
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if n < 0 { throw DataError.io(path: "pipe", operation: "read", errno: errno) }
        buffer.append(contentsOf: chunk[0..<n])
        return n
    }
}

/// The backup side's outcome, handed from its thread to the test.
final class BackupOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var _error: (any Error)?
    let done = DispatchSemaphore(value: 0)
    var error: (any Error)? { lock.withLock { _error } }
    func finish(_ error: (any Error)?) {
        lock.withLock { _error = error }
        done.signal()
    }
}

/// Peak resident memory of this process, from /proc/self/status.
func peakResidentBytes() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
    let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    return kib * 1024
}

@Suite("Large sparse files")
struct FileTreeSparseTests {
    @Test func oneGiBSparseFileStreamsThroughWithBoundedMemory() throws {
        let size: off_t = 1 << 30
        let work = TemporaryDirectory()
        try TreeBuilder.mkdir(work.sub("src"))
        let path = work.sub("src/sparse.img")
        let fd = open(path, O_WRONLY | O_CREAT, 0o640)
        try #require(fd >= 0)
        try #require(ftruncate(fd, size) == 0)
        // A few marks so that the content hash depends on where bytes are.
        for (offset, text) in [(0, "head"), (Int(size) / 3, "middle"), (Int(size) - 4, "tail")] {
            let bytes = Array(text.utf8)
            #expect(pwrite(fd, bytes, bytes.count, off_t(offset)) == bytes.count)
        }
        close(fd)
        try TreeBuilder.setTime(path, 1_700_000_000, 42)

        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        let outcome = BackupOutcome()
        let inputs = [work.sub("src")]
        Thread.detachNewThread {
            do {
                let writer = try PayloadWriter(sink: PipeSink(writeEnd), metadata: [:])
                try FileTreeReader(inputs: inputs).write(to: writer)
                _ = try writer.finish()
                close(writeEnd)
                outcome.finish(nil)
            } catch {
                close(writeEnd)
                outcome.finish(error)
            }
        }
        let reader = try PayloadReader(source: PipeSource(readEnd))
        let summary = try FileTreeWriter(destination: work.sub("out")).restore(from: reader)
        close(readEnd)
        outcome.done.wait()
        #expect(outcome.error == nil)

        #expect(summary.bytes == UInt64(size))
        #expect(reader.summary?.contentBytes == UInt64(size))
        let restored = work.sub("out/src/sparse.img")
        #expect(try NodeDescription(restored) == NodeDescription(path))
        #expect(try sameContent(path, restored))
        // Zero runs were seeked over: the copy is sparse too.
        var status = stat()
        #expect(stat(restored, &status) == 0)
        #expect(status.st_blocks * 512 < 64 << 20)
        // Neither side held the file: well under its size in this whole process.
        #expect(try peakResidentBytes() < 512 << 20)
    }
}
