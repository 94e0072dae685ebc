import DBSKit
import DBSSystem

/// `dbs-bench scan --whole [--sizes 64M,256M,1G]`: the layout scan forced through whole
/// files (issue 12, items 3 and 8), beside a plain read of the same file in the same run.
///
/// - Hostile files: one genuine stripe record (copy A, stripe 0, of a real backup) after a
///   zeroed head, then a pattern to the file's end. The record's header is a DBS structure
///   in the first 64 MiB, and no head is elected, so the reader scans the whole file for
///   the rest of the layout.
/// - A real backup of about the same file size, healthy, then with one byte inserted in
///   the middle of copy A: `validate` of the shifted file runs the anchor scan once and
///   reads every later record at its shift; the healthy file's `validate` is its reference.
///
/// Linear means the per-byte figures stay flat from the smallest size to the largest.
struct WholeScanBench {
    let options: ScanBench.Options
    private var scan: ScanBench { ScanBench(options: options) }

    static let patterns: Set<String> = [
        "random", "DBS-STRP repeated", "DBS-HEAD repeated",
        "plausible header every 256 B",
    ]

    func run() throws -> Bool {
        print(Machine.current().text)
        print(
            "whole-file scans in \(options.directory): the engine's locate (inspect) or validate, "
                + "then a plain sequential read of the same file")
        let path = options.directory + "/dbs-bench-whole-\(getpid()).bin"
        let backup = options.directory + "/dbs-bench-whole-\(getpid()).dbs"
        defer {
            unlink(path)
            unlink(backup)
        }
        let prefix = try genuinePrefix(scratch: backup)
        var ok = true
        for size in options.sizes {
            print("size \(formatBytes(size))")
            for (name, unit) in ScanBench.patterns where Self.patterns.contains(name) {
                try scan.fill(path, with: unit, prefix: prefix, size: size)
                let (seconds, verdict) = timed { () -> String in
                    do {
                        let info = try BackupInspector.inspect(path: path)
                        return "layout from scan: \(info.layoutFromScan), \(info.stripeCount) stripes"
                    } catch {
                        return "\(error)".prefix(60) + ""
                    }
                }
                report(name, seconds: seconds, size: size, path: path, verdict: verdict)
            }
            unlink(path)
            ok = try shiftedBackup(size: size, path: backup) && ok
            unlink(backup)
        }
        return ok
    }

    /// A zeroed head region, then copy A's record of stripe 0 of a fresh two-stripe backup.
    private func genuinePrefix(scratch: String) throws -> [UInt8] {
        try writeBackup(scratch, dataBytes: 3 << 20)
        let info = try BackupInspector.inspect(path: scratch)
        let file = try PositionedFile.openForReading(scratch)
        let record = try file.read(count: info.recordSize, at: UInt64(info.headerSize))
        unlink(scratch)
        return [UInt8](repeating: 0, count: info.headerSize) + record
    }

    /// Validate of a healthy backup of about `size` bytes, then of the same backup with
    /// one byte inserted in the middle of copy A. False if the shifted one is not healable.
    private func shiftedBackup(size: Int, path: String) throws -> Bool {
        try writeBackup(path, dataBytes: size * 10 / 22)  // two copies and parity: about `size` bytes
        let info = try BackupInspector.inspect(path: path)
        let fileSize = Int(info.fileLength)
        let (healthy, verdict) = timed {
            (try? BackupValidator.validate(path: path, threads: 2)).map(Self.status) ?? "failed"
        }
        report("real backup, healthy: validate", seconds: healthy, size: fileSize, path: path, verdict: verdict)
        let copyA = info.copyExtents[0]
        try insertByte(into: path, at: copyA.offset + copyA.length / 2 + 1001)
        let (shifted, shiftedVerdict) = timed { () -> String in
            guard let verdict = try? BackupValidator.validate(path: path, threads: 2) else { return "failed" }
            return Self.status(verdict) + ", " + verdict.report.shiftedRuns.map(\.description).joined(separator: "; ")
        }
        report(
            "real backup, 1 byte inserted: validate", seconds: shifted, size: fileSize + 1, path: path,
            verdict: shiftedVerdict)
        print("    shifted / healthy validate: \(format2(shifted / max(healthy, 1e-9)))")
        return shiftedVerdict.hasPrefix("healable")
    }

    private static func status(_ report: ValidationReport) -> String {
        switch report {
        case .healthy: "healthy"
        case .healable: "healable"
        case .unrecoverable: "unrecoverable"
        }
    }

    private func writeBackup(_ path: String, dataBytes: Int) throws {
        unlink(path)
        let options = BackupOptions(
            threads: 2, compression: .none,
            kdf: KDFParameters(timeCost: 1, memoryKiB: 8192, parallelism: 1))
        let writer = try BackupWriter(destination: path, passphrase: SecureBytes(Array("bench".utf8)), options: options)
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var written = 0
        while written < dataBytes {
            for i in block.indices {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                block[i] = UInt8(truncatingIfNeeded: state)
            }
            let n = min(block.count, dataBytes - written)
            try block.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            written += n
        }
        _ = try writer.finish()
    }

    /// Rewrites `path` with one byte inserted at `offset` (what a confused rescue tool does).
    private func insertByte(into path: String, at offset: UInt64) throws {
        let source = try PositionedFile.openForReading(path)
        let shifted = path + ".shifted"
        let fd = open(shifted, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FileError(path: shifted, operation: "open", code: errno) }
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var position: UInt64 = 0
        func put(_ bytes: UnsafeRawBufferPointer) throws {
            guard write(fd, bytes.baseAddress!, bytes.count) == bytes.count else {
                throw FileError(path: shifted, operation: "write", code: errno)
            }
        }
        while true {
            let want = position < offset ? Int(min(UInt64(buffer.count), offset - position)) : buffer.count
            let n = try source.read(into: &buffer, range: 0..<want, at: position)
            if n == 0 { break }
            try buffer.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            position += UInt64(n)
            if position == offset { try [UInt8(0x5A)].withUnsafeBytes { try put($0) } }
        }
        close(fd)
        guard rename(shifted, path) == 0 else { throw FileError(path: path, operation: "rename", code: errno) }
    }

    private func timed(_ body: () -> String) -> (Double, String) {
        let started = scan.now()
        let verdict = body()
        return (scan.now() - started, verdict)
    }

    private func report(_ name: String, seconds: Double, size: Int, path: String, verdict: String) {
        let readStarted = scan.now()
        try? scan.readThrough(path)
        let read = scan.now() - readStarted
        print(
            "  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(format2(seconds)) s "
                + "(\(format2(seconds * 1e9 / Double(size))) ns/B), read \(format2(read)) s, "
                + "ratio \(format2(seconds / max(read, 1e-9))): \(verdict)")
    }
}
