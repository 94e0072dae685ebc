import DBSKit

/// The figures of issue 3 ("Performance"), each a ratio of two figures of the same
/// run, against its floor.
struct Ratios {
    struct Row {
        var name: String
        var figure: String
        var reference: String
        var ratio: Double?
        var floor: String
        var met: Bool?
    }

    var rows: [Row] = []

    init(figures: [ThroughputBench.Figure], rss: [RSSProbe.Result], defaultBackend: RSBackendKind?) {
        func rate(_ stage: ThroughputBench.Stage, _ threads: Int, backend: RSBackendKind? = nil) -> Double? {
            figures.first { $0.stage == stage && $0.threads == threads && (backend == nil || $0.backend == backend) }?
                .rate
        }
        func cpuRate(_ stage: ThroughputBench.Stage, _ threads: Int, backend: RSBackendKind? = nil) -> Double? {
            figures.first { $0.stage == stage && $0.threads == threads && (backend == nil || $0.backend == backend) }?
                .cpuRate
        }
        let backend = defaultBackend
        // Ceiling: the per-byte single-thread costs of zstd-1, AES-GCM seal, RS encode
        // (per data byte) and XXH3 over all n shards (n/k of the data), over 2 cores.
        if let z = rate(.compress, 1), let a = rate(.seal, 1), let r = rate(.rsEncode, 1, backend: backend),
            let x = rate(.xxh3, 1)
        {
            let secondsPerGB = 1 / z + 1 / a + 1 / r + (255.0 / 239.0) / x
            let ceiling = 2 / secondsPerGB
            let detail =
                "2 / (1/\(format3(z)) zstd + 1/\(format3(a)) aes + 1/\(format3(r)) rs + 1.067/\(format3(x)) xxh3)"
            // The same with the page-cache traffic of the format added: both copies
            // written (2 n/k of the ciphertext), copy A read back for copy B (n/k).
            if let pw = rate(.pageCacheWrite, 1), let pr = rate(.pageCacheRead, 1),
                let w = rate(.writeNoVerify, 2, backend: backend)
            {
                let withIO = 2 / (secondsPerGB + 2 * (255.0 / 239.0) / pw + (255.0 / 239.0) / pr)
                rows.append(
                    Row(
                        name: "write (no verify), 2 threads / ceiling with the page-cache I/O",
                        figure: "\(format3(w)) GB/s",
                        reference:
                            "\(format3(withIO)) GB/s = 2 / (the sum above + 2.134/\(format3(pw)) write + 1.067/\(format3(pr)) read)",
                        ratio: w / withIO, floor: "(information)", met: nil))
            }
            for stage in [ThroughputBench.Stage.writeNoVerify, .write] {
                if let w = rate(stage, 2, backend: backend) {
                    rows.append(
                        Row(
                            name: "\(stage.rawValue), 2 threads / sum-of-primitives ceiling",
                            figure: "\(format3(w)) GB/s", reference: "\(format3(ceiling)) GB/s = \(detail)",
                            ratio: w / ceiling, floor: stage == .writeNoVerify ? ">= 0.70" : "(information)",
                            met: stage == .writeNoVerify ? w / ceiling >= 0.7 : nil))
                }
            }
        }
        // The same comparison per CPU-second, which a busy second core does not move:
        // the writer's GB per CPU-second against the primitives' 1 / (sum of costs).
        if let z = cpuRate(.compress, 1), let a = cpuRate(.seal, 1), let r = cpuRate(.rsEncode, 1, backend: backend),
            let x = cpuRate(.xxh3, 1), let w = cpuRate(.writeNoVerify, 2, backend: backend)
        {
            let ceiling = 1 / (1 / z + 1 / a + 1 / r + (255.0 / 239.0) / x)
            rows.append(
                Row(
                    name: "write (no verify), 2 threads, GB per CPU-second / primitives' GB per CPU-second",
                    figure: "\(format3(w)) GB/CPU-s", reference: "\(format3(ceiling)) GB/CPU-s",
                    ratio: w / ceiling, floor: "(information)", met: nil))
            if let pw = cpuRate(.pageCacheWrite, 1), let pr = cpuRate(.pageCacheRead, 1) {
                let withIO = 1 / (1 / ceiling + 2 * (255.0 / 239.0) / pw + (255.0 / 239.0) / pr)
                rows.append(
                    Row(
                        name: "write (no verify), 2 threads, GB per CPU-second / the same with the page-cache I/O",
                        figure: "\(format3(w)) GB/CPU-s", reference: "\(format3(withIO)) GB/CPU-s",
                        ratio: w / withIO, floor: "(information)", met: nil))
            }
        }
        if let clean = rate(.readClean, 2, backend: backend) {
            rows.append(
                Row(
                    name: "clean read, 2 threads", figure: "\(format3(clean)) GB/s", reference: "1.000 GB/s",
                    ratio: clean, floor: ">= 1.00", met: clean >= 1))
            if let damaged = rate(.readDamaged, 2, backend: backend) {
                rows.append(
                    Row(
                        name: "read with 1e-6 flips / clean read, 2 threads", figure: "\(format3(damaged)) GB/s",
                        reference: "\(format3(clean)) GB/s", ratio: damaged / clean, floor: ">= 0.70",
                        met: damaged / clean >= 0.7))
            }
            if let clean = cpuRate(.readClean, 2, backend: backend),
                let damaged = cpuRate(.readDamaged, 2, backend: backend)
            {
                rows.append(
                    Row(
                        name: "read with 1e-6 flips / clean read, 2 threads, per CPU-second",
                        figure: "\(format3(damaged)) GB/CPU-s", reference: "\(format3(clean)) GB/CPU-s",
                        ratio: damaged / clean, floor: "(0.70, information)", met: nil))
            }
        }
        for probe in rss {
            let bound = 200.0 + Double(probe.argon2KiB) / 1024
            for (what, kib) in [("write", probe.writeKiB), ("restore", probe.readKiB)] {
                guard let kib else {
                    rows.append(
                        Row(
                            name: "peak RSS, \(what) of \(formatBytes(probe.size))", figure: probe.error ?? "failed",
                            reference: "-", ratio: nil, floor: "<= \(Int(bound)) MiB", met: false))
                    continue
                }
                let mib = Double(kib) / 1024
                rows.append(
                    Row(
                        name: "peak RSS (VmHWM), \(what) of \(formatBytes(probe.size)), 2 threads",
                        figure: "\(format2(mib)) MiB", reference: "200 MiB + Argon2 \(probe.argon2KiB / 1024) MiB",
                        ratio: mib / bound, floor: "<= 1.00", met: mib <= bound))
            }
        }
    }

    var table: String {
        markdownTable(
            ["figure", "value", "reference (same run)", "ratio", "floor", "met"],
            rows.map { r in
                [
                    r.name, r.figure, r.reference, r.ratio.map(format2) ?? "-", r.floor,
                    r.met.map { $0 ? "yes" : "**no**" } ?? "-",
                ]
            })
    }

    var json: JSON {
        .array(
            rows.map { r in
                .object([
                    ("figure", .string(r.name)), ("value", .string(r.figure)), ("reference", .string(r.reference)),
                    ("ratio", r.ratio.map(JSON.number) ?? .null), ("floor", .string(r.floor)),
                    ("met", r.met.map(JSON.bool) ?? .null),
                ])
            })
    }
}
