import Foundation
import Testing

@testable import DBSKit

/// The writer's reusable batch buffers: the partial stripe carried from one batch to
/// the next, including batches too small to fill a stripe (the buffer then stays with
/// the writer and goes back to the pool when the next batch takes the partial over).
@Suite("Pipeline: batch buffers carried across batches")
struct PipelineBatchBufferTests {
    @Test(arguments: [(500, 1, true), (500, 2, false), (1500, 2, true), (4096, 3, false)])
    func streamsThatFillStripesSlowlyOrUnevenlyRoundTrip(chunkSize: Int, threads: Int, verify: Bool) throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        var options = Fixture.smallOptions(threads: threads)
        options.chunkSize = chunkSize
        options.verifyAfterWrite = verify
        // Half incompressible, half compressible: frames of very different lengths.
        let data = Fixture.randomBytes(30_000, seed: UInt64(chunkSize)) + [UInt8](repeating: 7, count: 30_000)
        let path = dir + "/b.dbs"
        let summary = try Fixture.write(data, to: path, options: options, pieceSize: 1234)
        #expect(summary.verified == verify)
        let (back, report) = try Fixture.read(path)
        #expect(back == data)
        #expect(report.isClean)
        #expect(summary.stripes > 4)
    }
}
