import DBSCompression
import DBSSecurity
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// A 1 GiB payload streamed through the writer and the reader with threads = 2: the
/// peak resident memory (VmHWM, reset before the run) must not grow with the backup.
/// It runs by default (about 12 s in a debug build here). The throughput
/// measurements below are opt-in (`DBS_LARGE_TESTS=1`, best in a release build).
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

    /// User + system CPU seconds of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resets VmHWM to the current resident set ("5" to clear_refs, Linux >= 4.0).
    static func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }

    @Test(.timeLimit(.minutes(10)))
    func oneGibibyteStreamsInBoundedMemory() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/large.dbs"
        let total = 1 << 30
        let pieceSize = 1 << 20
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
        print(
            "large: \(summary.fileBytes) bytes written in \(wrote) s, read \(Date().timeIntervalSince(started) - wrote) s, "
                + "VmHWM \(before / 1024) MiB before, \(peak / 1024) MiB peak")
        #expect(count == total)
        #expect(read.finalize() == written.finalize())
        #expect(reader.repairReport.isClean)
        // 200 MiB for the pipeline (it needs about 45), beside the test process itself
        // and the 8 MiB Argon2. VmHWM is per process: tests running in parallel count
        // too, hence the margin.
        #expect(peak - before < 200 * 1024)
    }
}

extension ContainerLargeStreamTests {
    /// Throughput of the write and read paths with their optional steps turned off in
    /// turn (512 MiB of incompressible data, threads = 2): where a write's time goes.
    @Test(.enabled(if: enabled))
    func phaseTimings() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let total = 512 << 20
        let pieceSize = 1 << 20
        let pool = Fixture.randomBytes(8 << 20, seed: 99)
        for (name, copies, verify) in [("2 copies + verify", 2, true), ("2 copies", 2, false), ("1 copy", 1, false)] {
            var options = Fixture.defaultShapeOptions(threads: 2)
            options.copies = copies
            options.verifyAfterWrite = verify
            let path = dir + "/\(copies)-\(verify).dbs"
            let started = Date()
            let cpuBefore = Self.cpuSeconds()
            let writer = try BackupWriter(destination: path, passphrase: Fixture.secure("p"), options: options)
            for i in 0..<(total / pieceSize) {
                let start = (i * 4_099_999) % (pool.count - pieceSize)
                try writer.write(pool[start..<(start + pieceSize)])
            }
            _ = try writer.finish()
            let seconds = Date().timeIntervalSince(started)
            let cpu = Self.cpuSeconds() - cpuBefore
            print(
                "timing: write \(name): \(Double(total) / seconds / 1e6) MB/s, \(cpu / Double(total) * 1e9) CPU ns/byte"
            )
        }
        func readSpeed(_ path: String) throws -> (Double, RepairReport) {
            let started = Date()
            let reader = try BackupReader(path: path, passphrase: Fixture.secure("p"), threads: 2)
            var buffer = [UInt8]()
            while true {
                buffer.removeAll(keepingCapacity: true)
                if try reader.read(into: &buffer, maxLength: 1 << 20) == 0 { break }
            }
            return (Double(total) / Date().timeIntervalSince(started) / 1e6, reader.repairReport)
        }
        let path = dir + "/2-true.dbs"
        let (clean, _) = try readSpeed(path)
        _ = DamageTests.flipBits(path, rate: 1e-6, seed: 1)
        let (damaged, report) = try readSpeed(path)
        print(
            "timing: read clean \(clean) MB/s, with 1e-6 flips in both copies \(damaged) MB/s "
                + "(\(Int(damaged / clean * 100)) %; \(report))")
    }
}

extension ContainerLargeStreamTests {
    /// The sum-of-primitives ceiling measured in the same process: zstd-1, AES-GCM,
    /// RS encode and XXH3 per byte on one thread; ceiling = threads / (sum of costs).
    @Test(.enabled(if: enabled))
    func primitiveCeiling() throws {
        let chunk = Fixture.randomBytes(1 << 20, seed: 5)
        let rounds = 64
        let compressor = try ChunkCompressor(level: 1)
        let cipher = try ChunkCipher(dataKey: SecureBytes(randomCount: 32), backupID: [UInt8](repeating: 1, count: 16))
        let code = try ReedSolomon(dataShards: 239, parityShards: 16)
        // In an AlignedBuffer, as the writer's batch buffers are (16 bytes past a page
        // boundary, where ISA-L runs fastest; a [UInt8] would measure the slower offset 48).
        let stripe = AlignedBuffer(count: 255 * 4096)
        Fixture.randomBytes(239 * 4096, seed: 6).withUnsafeBytes { _ = stripe.copy($0, to: 0) }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = Date()
            for _ in 0..<rounds { try body() }
            return Date().timeIntervalSince(start) / Double(rounds << 20)
        }
        let zstd = try seconds { _ = try compressor.encode(chunk) }
        let aes = try seconds { _ = try cipher.seal(chunk, chunkIndex: 0, isFinal: false) }
        let rs =
            try seconds { try code.encode(stripes: stripe, shardLength: 4096, threads: 1) } * Double(1 << 20)
            / Double(239 * 4096)
        let xxh = seconds { _ = ChecksumAlgorithm.xxh3_128.digest(chunk) } * 255 / 239
        let sha = seconds { _ = SHA256Hasher.hash(chunk) }
        let sum = zstd + aes + rs + xxh
        print(
            "timing: ns/byte zstd \(zstd * 1e9) aes \(aes * 1e9) rs \(rs * 1e9) xxh3 \(xxh * 1e9) sha256 \(sha * 1e9); "
                + "ceiling with 2 threads \(2 / sum / 1e6) MB/s")
    }
}
