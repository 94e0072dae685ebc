import Foundation
import Testing
@testable import DBSKit

/// A 1 GiB payload streamed through the writer and the reader with threads = 2: the
/// peak resident memory (VmHWM, reset before the run) must not grow with the backup.
/// Opt-in (`DBS_LARGE_TESTS=1`): it takes minutes in a debug build.
@Suite("Container: large streamed payload", .serialized)
struct ContainerLargeStreamTests {
    static let enabled = ProcessInfo.processInfo.environment["DBS_LARGE_TESTS"] == "1"

    /// Peak resident set of this process in KiB, from /proc/self/status.
    static func peakResidentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// Resets VmHWM to the current resident set ("5" to clear_refs, Linux >= 4.0).
    static func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }

    @Test(.enabled(if: enabled), .timeLimit(.minutes(30)))
    func oneGibibyteStreamsInBoundedMemory() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/large.dbs"
        let total = 1 << 30, pieceSize = 1 << 20
        let pool = Fixture.randomBytes(8 << 20, seed: 2024)
        func piece(_ i: Int) -> ArraySlice<UInt8> {
            let start = (i * 4_099_999) % (pool.count - pieceSize)
            return pool[start..<(start + pieceSize)]
        }
        var options = Fixture.defaultShapeOptions(threads: 2)
        options.kdf = Fixture.fastKDF
        Self.resetPeak()
        let before = Self.peakResidentKiB() ?? 0
        let started = Date()
        let writer = try BackupWriter(destination: path, passphrase: Fixture.secure("p"), options: options)
        var written = SHA256Hasher()
        for i in 0..<(total / pieceSize) {
            let bytes = piece(i)
            written.update(bytes)
            try writer.write(bytes)
        }
        let summary = try writer.finish()
        let wrote = Date().timeIntervalSince(started)
        let reader = try BackupReader(path: path, passphrase: Fixture.secure("p"), threads: 2)
        var read = SHA256Hasher()
        var buffer = [UInt8]()
        var count = 0
        while true {
            buffer.removeAll(keepingCapacity: true)
            let n = try reader.read(into: &buffer, maxLength: 1 << 20)
            if n == 0 { break }
            count += n
            read.update(buffer)
        }
        let peak = Self.peakResidentKiB() ?? 0
        print("large: \(summary.fileBytes) bytes written in \(wrote) s, read \(Date().timeIntervalSince(started) - wrote) s, "
              + "VmHWM \(before / 1024) MiB before, \(peak / 1024) MiB peak")
        #expect(count == total)
        #expect(read.finalize() == written.finalize())
        #expect(reader.repairReport.isClean)
        // 200 MiB for the pipeline, beside the test process itself and the 8 MiB Argon2.
        #expect(peak - before < 200 * 1024)
    }
}
