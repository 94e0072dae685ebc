import DBSKit
import DBSSystem

/// Whole backups through the public API: `BackupWriter` from a `TestData` stream into
/// a file, `BackupReader` back, each timed.
enum BackupRun {
    /// A cheap Argon2id (one pass over 8 MiB): the benchmarks time the data path, not
    /// the key derivation, which is a fixed cost per backup (about 0.2 s at the
    /// defaults). The `rss` mode keeps the defaults, as a user would.
    static let benchmarkKDF = KDFParameters(timeCost: 1, memoryKiB: 8192, parallelism: 1)
    static let passphrase = "dbs-bench passphrase"

    static func options(threads: Int, kdf: KDFParameters = benchmarkKDF, verify: Bool = true) -> BackupOptions {
        BackupOptions(threads: threads, kdf: kdf, verifyAfterWrite: verify, overwrite: true)
    }

    /// Writes `size` bytes of `data` to `path`; returns the seconds from the writer's
    /// creation to the end of `finish` (verify-after-write included when on).
    @discardableResult
    static func write(_ data: TestData, size: Int, to path: String, options: BackupOptions) throws -> Double {
        let clock = Stopwatch()
        let writer = try BackupWriter(
            destination: path, passphrase: SecureBytes(Array(passphrase.utf8)),
            options: options)
        try data.stream(count: size) { try writer.write($0) }
        _ = try writer.finish()
        return clock.seconds
    }

    /// What a restore gave.
    struct ReadOutcome {
        /// Every byte matched and the stream had the right length.
        var exact: Bool
        /// Some byte returned differed from what was written (must never happen).
        var wrong: Bool
        /// Why the read stopped early, if it did.
        var error: String?
        var bytes: Int
        var seconds: Double
        var report: RepairReport?
    }

    /// Reads the backup at `path` to its end, comparing every byte with `expected`'s
    /// stream when given.
    static func read(_ path: String, threads: Int, expected: TestData?, size: Int) -> ReadOutcome {
        let clock = Stopwatch()
        var outcome = ReadOutcome(exact: false, wrong: false, error: nil, bytes: 0, seconds: 0, report: nil)
        var reader: BackupReader?
        do {
            let opened = try BackupReader(path: path, passphrase: SecureBytes(Array(passphrase.utf8)), threads: threads)
            reader = opened
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            while true {
                buffer.removeAll(keepingCapacity: true)
                let n = try opened.read(into: &buffer, maxLength: 1 << 20)
                if n == 0 { break }
                if let expected {
                    if outcome.bytes + n > size || !expected.matches(buffer[...], at: outcome.bytes) {
                        outcome.wrong = true
                    }
                }
                outcome.bytes += n
            }
            // A stream that ends cleanly but short is as wrong as a changed byte.
            if expected != nil && outcome.bytes != size { outcome.wrong = true }
            outcome.exact = !outcome.wrong
        } catch {
            outcome.error = Self.describe(error)
            if case .damagedBeyondRepair(let report)? = error as? BackupError { outcome.report = report }
        }
        outcome.seconds = clock.seconds
        if outcome.report == nil { outcome.report = reader?.repairReport }
        return outcome
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? BackupError else { return "\(error)" }
        switch error {
        case .damagedBeyondRepair(let report): return "damaged beyond repair (\(report.lostShards.count) shards lost)"
        default: return "\(error)"
        }
    }
}

/// Wall-clock time since creation.
struct Stopwatch {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    init() { start = clock.now }
    var seconds: Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// A scratch directory in memory (/dev/shm when there is one): the benchmarks measure
/// the engine with its output in the page cache, not the disk.
func scratchDirectory() -> String {
    var info = stat()
    let base = stat("/dev/shm", &info) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(base)/dbs-bench-\(getpid())"
    mkdir(path, 0o700)
    return path
}

func removeScratch(_ directory: String) {
    if let dir = opendir(directory) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { unlink("\(directory)/\(name)") }
        }
        closedir(dir)
    }
    rmdir(directory)
}
