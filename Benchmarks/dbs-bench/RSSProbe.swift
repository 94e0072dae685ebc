import DBSKit
import DBSSystem

/// Peak memory of a large streamed backup and restore, each measured in a child
/// process (`dbs-bench rss --size N`) so that nothing of the parent's buffers counts.
/// The child reads VmHWM from /proc/self/status after the write, resets it through
/// /proc/self/clear_refs, restores, and reads it again. It uses the default Argon2id
/// parameters (64 MiB), as a user would.
enum RSSProbe {
    struct Result {
        var size: Int
        var writeKiB: Int?
        var readKiB: Int?
        var argon2KiB: Int
        var writeSeconds: Double?
        var readSeconds: Double?
        var error: String?
    }

    /// Runs the child and parses its one line of output.
    static func measure(size: Int, threads: Int = 2) -> Result {
        var result = Result(size: size, argon2KiB: Int(KDFParameters.default.memoryKiB))
        let executable = selfExecutable()
        guard let pipe = popen("'\(executable)' rss --size \(size) --threads \(threads) 2>&1", "r") else {
            result.error = "popen failed"
            return result
        }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let status = pclose(pipe)
        var fields: [String: String] = [:]
        for word in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        result.writeKiB = fields["write_hwm_kib"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        result.readKiB = fields["restore_hwm_kib"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        result.writeSeconds = fields["write_s"].flatMap { Double($0) }
        result.readSeconds = fields["restore_s"].flatMap { Double($0) }
        if status != 0 || result.writeKiB == nil { result.error = "child failed: \(output)" }
        return result
    }

    /// The child: write then restore `size` bytes of random data through a file under
    /// /tmp (page cache), printing `write_hwm_kib=... restore_hwm_kib=...`.
    static func child(_ arguments: [String]) throws {
        var a = try Arguments(arguments, switches: [])
        let size = try a.bytes("--size") ?? (1 << 30)
        let threads = try a.positive("--threads") ?? 2
        try a.finish()
        let directory = "/tmp/dbs-bench-rss-\(getpid())"
        mkdir(directory, 0o700)
        defer { removeScratch(directory) }
        let path = "\(directory)/rss.dbs"
        let data = TestData(kind: .random, poolSize: 4 << 20 + 12_345)
        let writeSeconds = try BackupRun.write(
            data, size: size, to: path,
            options: BackupRun.options(threads: threads, kdf: .default))
        let writePeak = peakKiB()
        resetPeak()
        let read = BackupRun.read(path, threads: threads, expected: nil, size: size)
        guard read.error == nil, read.bytes == size else {
            throw ThroughputBench.CheckFailed(what: "restore: \(read.error ?? "\(read.bytes) bytes")")
        }
        print(
            "size=\(size) write_hwm_kib=\(writePeak ?? -1) restore_hwm_kib=\(peakKiB() ?? -1) "
                + "write_s=\(writeSeconds) restore_s=\(read.seconds)")
    }

    /// VmHWM from /proc/self/status, KiB.
    static func peakKiB() -> Int? {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // A /proc file states no size: read to the end.
        var status: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            status += buffer[0..<n]
        }
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// Writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS (Linux 4.0+).
    static func resetPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }

    static func selfExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0
            ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }
}
