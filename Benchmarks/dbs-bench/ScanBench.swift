import DBSKit
import DBSSystem
import Foundation

/// `dbs-bench scan`: how long the reader takes to find, or refuse, the layout of files
/// that hold hostile patterns instead of a backup (issue 12: a file of `DBS-STRP`
/// repeated took minutes per MiB). Each pattern fills a file of `--size` bytes; the
/// figure is `dbs inspect`'s engine call on it, beside a plain sequential read of the
/// same file in the same run (the reference a linear scan is measured against).
struct ScanBench {
    struct Options {
        var size = 1 << 30
        var directory = "/dev/shm"
        /// `--whole`: files the scan must read to their end (`WholeScanBench`).
        var whole = false
        var sizes = [64 << 20, 256 << 20, 1 << 30]
        init(_ arguments: [String]) throws {
            var args = try Arguments(arguments, switches: ["--whole"])
            size = try args.bytes("--size") ?? size
            directory = args.string("--dir") ?? directory
            whole = args.flag("--whole")
            sizes = try args.list("--sizes", Arguments.parseBytes) ?? sizes
            try args.finish()
        }
    }

    let options: Options

    /// The patterns: what a disk or a file that is not a backup holds, and what an
    /// attacker would write to make the scanner work.
    static var patterns: [(name: String, unit: [UInt8])] {
        var plausible = [UInt8](repeating: 0, count: 256)  // a stripe header's fixed fields, in bounds
        plausible.replaceSubrange(0..<8, with: Array("DBS-STRP".utf8))
        plausible[8] = 1
        func put(_ value: Int, at offset: Int, width: Int) {
            for i in 0..<width { plausible[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        put(1 << 20, at: 24 + 112, width: 4)  // chunk size
        plausible[24 + 116] = 1  // zstd
        plausible[24 + 118] = 1  // XXH3-128
        plausible[24 + 119] = 2  // copies
        put(239, at: 24 + 120, width: 2)
        put(16, at: 24 + 122, width: 2)
        put(4096, at: 24 + 124, width: 4)
        var random = [UInt8](repeating: 0, count: 1 << 20)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in random.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            random[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        return [
            ("zeros", [0]),
            ("random", random),
            ("DBS-STRP repeated", Array("DBS-STRP".utf8)),
            ("DBS-HEAD repeated", Array("DBS-HEAD".utf8)),
            ("DBS-STRP v1 every 16 B", Array("DBS-STRP".utf8) + [1, 0, 0, 0, 0, 0, 0, 0]),
            ("plausible header every 256 B", plausible),
        ]
    }

    func run() throws -> Bool {
        if options.whole { return try WholeScanBench(options: options).run() }
        print(Machine.current().text)
        print(
            "scan of \(formatBytes(options.size)) files in \(options.directory) (each: the engine's locate, "
                + "then a plain sequential read of the same file)")
        let path = options.directory + "/dbs-bench-scan-\(getpid()).bin"
        defer { unlink(path) }
        var ok = true
        for (name, unit) in Self.patterns {
            try fill(path, with: unit)
            let started = now()
            var verdict = "accepted (!)"
            do {
                _ = try BackupInspector.inspect(path: path)
                ok = false
            } catch {
                verdict = "\(error)".prefix(60) + ""
            }
            let scan = now() - started
            let readStarted = now()
            try readThrough(path)
            let read = now() - readStarted
            print(
                "  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) scan \(format2(scan)) s, "
                    + "read \(format2(read)) s, ratio \(format2(scan / max(read, 1e-9))): \(verdict)")
        }
        return ok
    }

    /// Writes `options.size` bytes (or `size`) of `unit` repeated to `path`, after `prefix`.
    func fill(_ path: String, with unit: [UInt8], prefix: [UInt8] = [], size: Int? = nil) throws {
        let size = size ?? options.size
        let block = 1 << 20
        var chunk = [UInt8]()
        chunk.reserveCapacity(block + unit.count)
        while chunk.count < block { chunk.append(contentsOf: unit) }
        chunk = Array(chunk.prefix(block))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        guard prefix.withUnsafeBytes({ write(fd, $0.baseAddress!, prefix.count) }) == prefix.count else {
            throw FileError(path: path, operation: "write", code: errno)
        }
        var written = prefix.count
        // The pattern is laid out continuously across blocks (block is a multiple of
        // every unit's length here, or the unit is random and a seam does not matter).
        while written < size {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, min(block, size - written)) }
            guard n > 0 else { throw FileError(path: path, operation: "write", code: errno) }
            written += n
        }
    }

    func readThrough(_ path: String) throws {
        let file = try PositionedFile.openForReading(path)
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var offset: UInt64 = 0
        while true {
            let n = try file.read(into: &buffer, range: 0..<buffer.count, at: offset)
            if n == 0 { break }
            offset += UInt64(n)
        }
    }

    func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
