import DBSCompression
import DBSIntegrity
import DBSKit
import DBSSecurity
import DBSSystem
import Dispatch

/// `dbs-bench throughput`: GB/s (10^9 bytes per second) of every stage of the engine,
/// per thread count and Reed-Solomon backend, then the whole pipeline, then the
/// figures of issue 3 as ratios measured in this same run.
struct ThroughputBench {
    struct Options {
        var size = 256 << 20
        var threads = [1, 2]
        var backends: [RSBackendKind] = KernelRegistry.available.filter { $0 != .scalar }
        var data = DataKind.random
        var passes = 3
        var json = false
        var plot: String?
        var rssSizes: [Int] = [1 << 30, 4 << 30]

        init(_ arguments: [String]) throws {
            var a = try Arguments(arguments, switches: ["--json", "--quick"])
            if a.flag("--quick") {
                size = 24 << 20
                rssSizes = [64 << 20, 256 << 20]
            }
            size = try a.bytes("--size") ?? size
            threads = try a.list("--threads") { Int($0).flatMap { $0 > 0 ? $0 : nil } } ?? threads
            backends = try a.list("--backend") { RSBackendKind(rawValue: $0) } ?? backends
            if let kind = a.string("--data") {
                guard let parsed = DataKind(rawValue: kind) else { throw BadArgument(argument: "--data \(kind)") }
                data = parsed
            }
            passes = try a.positive("--passes") ?? passes
            if let sizes = a.string("--rss-sizes") {
                rssSizes =
                    sizes == "none"
                    ? []
                    : try sizes.split(separator: ",").map {
                        guard let n = Arguments.parseBytes(String($0)), n > 0 else {
                            throw BadArgument(argument: "--rss-sizes \(sizes)")
                        }
                        return n
                    }
            }
            json = a.flag("--json")
            plot = a.string("--plot")
            try a.finish()
            for backend in backends where !KernelRegistry.available.contains(backend) {
                throw BadArgument(argument: "--backend \(backend.rawValue) (not in this build)")
            }
        }
    }

    /// One figure: a stage at a thread count, with the RS backend where it matters.
    struct Figure {
        var stage: Stage
        var backend: RSBackendKind?
        var threads: Int
        var samples: [Sample]
        /// GB per wall-clock second: what the machine gave.
        var rate: Double { median(samples.map(\.wall)) }
        /// GB per CPU-second of the process (user + system): what the work costs,
        /// whether or not the other core was free.
        var cpuRate: Double { median(samples.map(\.cpu)) }
    }

    /// One timed pass: GB/s of wall-clock time and of process CPU time.
    struct Sample {
        var wall: Double
        var cpu: Double

        /// Times `body`, which processes `bytes`.
        static func measure(_ bytes: Int, _ body: () throws -> Void) rethrows -> Sample {
            let cpu = processCPUSeconds()
            let clock = Stopwatch()
            try body()
            let wall = clock.seconds
            return Sample(wall: Double(bytes) / wall / 1e9, cpu: Double(bytes) / (processCPUSeconds() - cpu) / 1e9)
        }
    }

    enum Stage: String, CaseIterable {
        case rsEncode = "RS encode"
        case rsDecode = "RS erasure decode (16 shards)"
        case syndrome = "syndrome check"
        case xxh3 = "xxh3-128 checksum"
        case blake2b = "blake2b-128 checksum"
        case seal = "AES-256-GCM seal"
        case open = "AES-256-GCM open"
        case compress = "zstd-1 compress"
        case decompress = "zstd decompress (text)"
        case pageCacheWrite = "page-cache write (new file)"
        case pageCacheRead = "page-cache read"
        case write = "write (backup, verified)"
        case writeNoVerify = "write (no verify)"
        case readClean = "read (clean)"
        case readDamaged = "read (1e-6 flips, both copies)"

        var usesBackend: Bool { [.rsEncode, .rsDecode, .syndrome].contains(self) || isPipeline }
        var isPipeline: Bool { [.write, .writeNoVerify, .readClean, .readDamaged].contains(self) }
    }

    let options: Options
    private let k = 239, m = 16, shard = 4096

    func run() throws -> Bool {
        let machine = Machine.current()
        let data = TestData(kind: options.data, poolSize: min(options.size, 16 << 20) + 12_345)
        if !options.json {
            print(machine.text)
            print(
                "throughput: \(formatBytes(options.size)) of \(options.data.rawValue) data through the pipeline, "
                    + "threads \(options.threads.map(String.init).joined(separator: ",")), "
                    + "backends \(options.backends.map(\.rawValue).joined(separator: ",")), median of \(options.passes) passes\n"
            )
        }
        var figures = try primitives(data)
        figures += try pipeline(data)
        let rss = options.rssSizes.map { RSSProbe.measure(size: $0) }
        // The ratios are of the backend a backup runs by default, when it was measured.
        let chosen = RSBackendKind(rawValue: machine.defaultBackend).flatMap {
            options.backends.contains($0) ? $0 : nil
        }
        let ratios = Ratios(figures: figures, rss: rss, defaultBackend: chosen ?? options.backends.first)
        if options.json {
            print(json(figures, ratios: ratios, machine: machine).rendered)
        } else {
            print(table(figures))
            print("\n" + ratios.table)
        }
        if let plot = options.plot {
            let bars = figures.map { f in
                SVGChart.Bar(
                    stage: f.stage.rawValue, group: f.backend?.rawValue ?? "", threads: f.threads, value: f.rate)
            }
            let subtitle =
                "\(machine.architecture), \(machine.model), \(machine.cores) cores, \(options.data.rawValue) data, "
                + "\(formatBytes(options.size)), median of \(options.passes), \(machine.date)"
            try writeText(
                SVGChart.bars(
                    bars, title: "DBS throughput by stage, backend and threads", unit: "GB/s",
                    subtitle: subtitle), to: plot)
        }
        return true
    }

    // MARK: - Primitives

    private func primitives(_ data: TestData) throws -> [Figure] {
        let stripeCount = max(2, min(options.size, 64 << 20) / (k * shard))
        let dataBytes = stripeCount * k * shard
        var stripes = [UInt8](repeating: 0, count: stripeCount * (k + m) * shard)
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(dataBytes)
        data.stream(count: dataBytes) { plaintext.append(contentsOf: $0) }
        for s in 0..<stripeCount {
            stripes.replaceSubrange(
                (s * (k + m) * shard)..<(s * (k + m) * shard + k * shard),
                with: plaintext[(s * k * shard)..<((s + 1) * k * shard)])
        }
        let codes = try options.backends.map { try ReedSolomon(dataShards: k, parityShards: m, backend: $0) }
        try codes[0].encode(stripes: &stripes, shardLength: shard, threads: 1)
        let encoded = stripes
        var figures: [Figure] = []

        // Chunks of 1 MiB for the cipher and zstd, sealed and compressed once so that
        // open and decompress have real input.
        let chunkSize = 1 << 20
        let chunks = stride(from: 0, to: dataBytes, by: chunkSize).map {
            Array(plaintext[$0..<min(dataBytes, $0 + chunkSize)])
        }
        let cipher = try ChunkCipher(dataKey: SecureBytes(randomCount: 32), backupID: [UInt8](repeating: 7, count: 16))
        let compressor = try ChunkCompressor(level: 1)
        let sealed = try chunks.enumerated().map { try cipher.seal($1, chunkIndex: UInt64($0), isFinal: false) }
        // Decompression is measured on zstd frames of text whatever `--data` is: a
        // chunk of random data is stored raw and its "decompression" is no work.
        let textChunks = try textChunksForDecompression(count: chunks.count, chunkSize: chunkSize, data: data)
        let stored = try textChunks.map { try compressor.encode($0) }

        for threads in options.threads {
            var rates: [Stage: [[Sample]]] = [:]
            for _ in 0..<options.passes {
                for (index, code) in codes.enumerated() {
                    func record(_ stage: Stage, _ bytes: Int, _ body: () throws -> Void) rethrows {
                        rates[stage, default: Array(repeating: [], count: codes.count)][index].append(
                            try Sample.measure(bytes, body))
                    }
                    try record(.rsEncode, dataBytes) {
                        try code.encode(stripes: &stripes, shardLength: shard, threads: threads)
                    }
                    try record(.rsDecode, dataBytes) {
                        try code.reconstruct(
                            stripes: &stripes, shardLength: shard, erased: Array(0..<m), threads: threads)
                    }
                    try record(.syndrome, stripes.count) {
                        let consistent = try code.consistency(stripes: stripes, shardLength: shard, threads: threads)
                        guard consistent.allSatisfy({ $0 }) else { throw CheckFailed(what: "syndromes after decode") }
                    }
                }
                guard stripes == encoded else { throw CheckFailed(what: "RS encode/decode changed the stripes") }
                func record(_ stage: Stage, _ bytes: Int, _ body: () throws -> Void) rethrows {
                    rates[stage, default: [[]]][0].append(try Sample.measure(bytes, body))
                }
                for algorithm in [ChecksumAlgorithm.xxh3_128, .blake2b_128] {
                    let shards = stripes.count / shard
                    record(algorithm == .xxh3_128 ? .xxh3 : .blake2b, stripes.count) {
                        stripes.withUnsafeBytes { raw in
                            parallel(shards, threads) { i in
                                _ = algorithm.digest(
                                    UnsafeRawBufferPointer(rebasing: raw[(i * shard)..<((i + 1) * shard)]))
                            }
                        }
                    }
                }
                try record(.seal, dataBytes) {
                    try parallelThrowing(chunks.count, threads) { i in
                        _ = try cipher.seal(chunks[i], chunkIndex: UInt64(i), isFinal: false)
                    }
                }
                try record(.open, dataBytes) {
                    try parallelThrowing(chunks.count, threads) { i in
                        _ = try cipher.open(sealed[i], chunkIndex: UInt64(i), isFinal: false)
                    }
                }
                try record(.compress, dataBytes) {
                    try parallelThrowing(chunks.count, threads) { i in _ = try compressor.encode(chunks[i]) }
                }
                try record(.decompress, dataBytes) {
                    try parallelThrowing(chunks.count, threads) { i in
                        _ = try compressor.decode(
                            stored[i].bytes, encoding: stored[i].encoding, plaintextLength: textChunks[i].count)
                    }
                }
                try pageCache(plaintext, threads: threads) { stage, sample in
                    rates[stage, default: [[]]][0].append(sample)
                }
            }
            for stage in Stage.allCases {
                guard let perBackend = rates[stage] else { continue }
                if stage.usesBackend {
                    for (index, code) in codes.enumerated() {
                        figures.append(
                            Figure(stage: stage, backend: code.backend, threads: threads, samples: perBackend[index]))
                    }
                } else {
                    figures.append(Figure(stage: stage, backend: nil, threads: threads, samples: perBackend[0]))
                }
            }
        }
        return figures
    }

    /// pwrite of `bytes` in 1 MiB blocks into a new file in the scratch directory (the
    /// kernel allocates, zeroes and fills fresh pages, as for a backup being written),
    /// then pread of it back; `threads` workers each take a range of blocks.
    private func pageCache(_ bytes: [UInt8], threads: Int, _ report: (Stage, Sample) -> Void) throws {
        let directory = scratchDirectory()
        defer { removeScratch(directory) }
        let path = "\(directory)/pagecache"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        let block = 1 << 20
        let blocks = bytes.count / block
        let failure = FirstError()
        report(
            .pageCacheWrite,
            Sample.measure(blocks * block) {
                bytes.withUnsafeBytes { raw in
                    parallel(blocks, threads) { i in
                        if pwrite(fd, raw.baseAddress! + i * block, block, off_t(i * block)) != block {
                            failure.set(FileError(path: path, operation: "pwrite", code: errno))
                        }
                    }
                }
            })
        var back = [UInt8](repeating: 0, count: blocks * block)
        report(
            .pageCacheRead,
            Sample.measure(blocks * block) {
                back.withUnsafeMutableBytes { raw in
                    nonisolated(unsafe) let base = raw.baseAddress!
                    parallel(blocks, threads) { i in
                        if pread(fd, base + i * block, block, off_t(i * block)) != block {
                            failure.set(FileError(path: path, operation: "pread", code: errno))
                        }
                    }
                }
            })
        if let error = failure.error { throw error }
    }

    private func textChunksForDecompression(count: Int, chunkSize: Int, data: TestData) throws -> [[UInt8]] {
        let text = data.kind == .text ? data : TestData(kind: .text, poolSize: 16 << 20 + 12_345)
        var all: [UInt8] = []
        all.reserveCapacity(count * chunkSize)
        text.stream(count: count * chunkSize) { all.append(contentsOf: $0) }
        return stride(from: 0, to: all.count, by: chunkSize).map { Array(all[$0..<($0 + chunkSize)]) }
    }

    // MARK: - Pipeline

    private func pipeline(_ data: TestData) throws -> [Figure] {
        let directory = scratchDirectory()
        defer { removeScratch(directory) }
        let path = "\(directory)/bench.dbs"
        let damaged = "\(directory)/damaged.dbs"
        var figures: [Figure] = []
        for threads in options.threads {
            var rates: [Stage: [[Sample]]] = [:]
            /// Runs `body`, which returns the seconds it timed itself (the writer from
            /// its creation to `finish`, the reader from opening to the end).
            func add(_ stage: Stage, _ index: Int, _ body: () throws -> Double) rethrows {
                let cpu = processCPUSeconds()
                let seconds = try body()
                let sample = Sample(
                    wall: Double(options.size) / seconds / 1e9,
                    cpu: Double(options.size) / (processCPUSeconds() - cpu) / 1e9)
                rates[stage, default: Array(repeating: [], count: options.backends.count)][index].append(sample)
            }
            for pass in 0..<options.passes {
                for (index, backend) in options.backends.enumerated() {
                    setenv(KernelRegistry.environmentVariable, backend.rawValue, 1)
                    defer { unsetenv(KernelRegistry.environmentVariable) }
                    try add(.writeNoVerify, index) {
                        try BackupRun.write(
                            data, size: options.size, to: path,
                            options: BackupRun.options(threads: threads, verify: false))
                    }
                    try add(.write, index) {
                        try BackupRun.write(
                            data, size: options.size, to: path, options: BackupRun.options(threads: threads))
                    }
                    try add(.readClean, index) {
                        let clean = BackupRun.read(path, threads: threads, expected: nil, size: options.size)
                        guard clean.error == nil, clean.bytes == options.size else {
                            throw CheckFailed(what: "clean read: \(clean.error ?? "\(clean.bytes) bytes")")
                        }
                        return clean.seconds
                    }
                    var bytes = try readFile(path)
                    let geometry = Geometry(try BackupInspector.inspect(path: path))
                    var rng = SplitMix64(seed: UInt64(pass + 1))
                    for copy in geometry.copies {
                        _ = Damage.flipBits(&bytes, copy.offset, copy.length, rate: 1e-6, &rng)
                    }
                    try writeFile(bytes, to: damaged)
                    bytes = []
                    try add(.readDamaged, index) {
                        let read = BackupRun.read(damaged, threads: threads, expected: nil, size: options.size)
                        guard read.error == nil, read.bytes == options.size else {
                            throw CheckFailed(what: "read with 1e-6 flips: \(read.error ?? "\(read.bytes) bytes")")
                        }
                        return read.seconds
                    }
                }
            }
            for stage in Stage.allCases where stage.isPipeline {
                for (index, backend) in options.backends.enumerated() {
                    figures.append(
                        Figure(stage: stage, backend: backend, threads: threads, samples: rates[stage]![index]))
                }
            }
        }
        return figures
    }

    // MARK: - Output

    /// One row per stage and backend, one column per thread count, then the scaling
    /// efficiency of the largest thread count: rate(t) / (t * rate(1)).
    private func table(_ figures: [Figure]) -> String {
        let threads = options.threads
        var rows: [[String]] = []
        var seen: [(Stage, RSBackendKind?)] = []
        for f in figures where !seen.contains(where: { $0.0 == f.stage && $0.1 == f.backend }) {
            seen.append((f.stage, f.backend))
        }
        for (stage, backend) in seen {
            let row = threads.map { t in
                figures.first { $0.stage == stage && $0.backend == backend && $0.threads == t }?.rate
            }
            var cells = [stage.rawValue, backend?.rawValue ?? "-"] + row.map { $0.map(format3) ?? "-" }
            if let first = threads.first, let last = threads.last, last > first, let one = row.first ?? nil,
                let top = row.last ?? nil
            {
                cells.append(format2(top / (Double(last) / Double(first) * one)))
            } else if threads.count > 1 {
                cells.append("-")
            }
            let top = figures.first { $0.stage == stage && $0.backend == backend && $0.threads == threads.last }
            cells.append(top.map { format3($0.cpuRate) } ?? "-")
            rows.append(cells)
        }
        var header = ["stage", "backend"] + threads.map { "GB/s, \($0) thread\($0 == 1 ? "" : "s")" }
        if threads.count > 1 { header.append("scaling \(threads.last!) vs \(threads.first!)") }
        header.append("GB per CPU-second, \(threads.last!) thread\(threads.last! == 1 ? "" : "s")")
        return markdownTable(header, rows)
    }

    private func json(_ figures: [Figure], ratios: Ratios, machine: Machine) -> JSON {
        .object([
            ("mode", .string("throughput")), ("machine", machine.json), ("size", .integer(options.size)),
            ("data", .string(options.data.rawValue)), ("passes", .integer(options.passes)),
            (
                "figures",
                .array(
                    figures.map { f in
                        .object([
                            ("stage", .string(f.stage.rawValue)),
                            ("backend", f.backend.map { .string($0.rawValue) } ?? .null),
                            ("threads", .integer(f.threads)), ("gbps", .number(f.rate)),
                            ("gbPerCPUSecond", .number(f.cpuRate)),
                            ("passes", .array(f.samples.map { JSON.number($0.wall) })),
                            ("passesPerCPUSecond", .array(f.samples.map { JSON.number($0.cpu) })),
                        ])
                    })
            ),
            ("ratios", ratios.json),
        ])
    }

    struct CheckFailed: Error, CustomStringConvertible {
        let what: String
        var description: String { "check failed: \(what)" }
    }
}
