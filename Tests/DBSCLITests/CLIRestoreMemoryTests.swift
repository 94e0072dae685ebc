import Foundation
import Testing

/// A restore's memory is bounded by bytes, not by the backup's compression ratio: a
/// 192 MiB file that compresses to almost nothing fits in a handful of stripes, and
/// its restore must not hold all of its plaintext at once.
@Suite("dbs restore: memory bounded by plaintext bytes", .serialized)
struct CLIRestoreMemoryTests {
    /// `count` bytes of a repeated text line (zstd makes it a few hundred KiB).
    static func compressible(_ count: Int) -> [UInt8] {
        let line = Array("the same line of a log file, over and over again 0123456789\n".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count { bytes += line }
        return Array(bytes.prefix(count))
    }

    /// The peak RSS in KiB of `dbs restore backup --to out`, measured by a python3
    /// parent whose only child it is (getrusage of its children).
    static func restorePeak(_ backup: String, to out: String, scratch: Scratch) throws -> Int {
        let report = scratch.file("rss-\(UUID().uuidString)")
        let probe =
            "import resource, subprocess, sys; r = subprocess.run(sys.argv[2:]).returncode; "
            + "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(r)"
        let result = try DBSTool.run(
            ["restore", backup, "--to", out, "--threads", "2", "--quiet"],
            prefix: ["python3", "-c", probe, report])
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(Int(String(contentsOfFile: report, encoding: .utf8)))
    }

    @Test func restorePeakDoesNotGrowWithTheCompressionRatio() throws {
        let scratch = try Scratch()
        var peaks: [Int] = []
        for (name, size) in [("small", 16 << 20), ("large", 192 << 20)] {
            try scratch.write("\(name)/log.txt", Self.compressible(size))
            let backup = scratch.file("\(name).dbs")
            let made = try DBSTool.run(["backup", backup, scratch.file(name), "--quiet"] + DBSTool.fastKDF)
            try #require(made.status == 0, "\(made.stderr)")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: backup)[.size] as? Int)
            #expect(size < 16 << 20, "the backup of \(name) is small: the data compressed")
            peaks.append(try Self.restorePeak(backup, to: scratch.file("out-\(name)"), scratch: scratch))
            try expectSameTree(scratch.file(name), scratch.file("out-\(name)/\(name)"))
        }
        // 176 MiB more plaintext; the engine holds at most 16 MiB of it per pass and
        // the writer lanes 16 pieces of at most 1 MiB (before the bound: +170 MiB).
        #expect(peaks[1] - peaks[0] < 48 << 10, "peak RSS \(peaks[0]) KiB for 16 MiB, \(peaks[1]) KiB for 192 MiB")
    }
}
