import DBSKit

/// `dbs-bench bitrot`: one backup of generated data; each scenario damages a fresh
/// copy of it and the copy is restored in process (`BackupReader`, every byte compared
/// with what was written). Outcomes: exact, refused (the reader said it cannot), or
/// WRONG (bytes returned that were not written: must never happen).
struct BitrotBench {
    struct Options {
        var size = 32 << 20
        var trials = 3
        var seed: UInt64 = 1
        var threads = 2
        var json = false
        var plot: String?

        init(_ arguments: [String]) throws {
            var a = try Arguments(arguments, switches: ["--json", "--quick"])
            if a.flag("--quick") {
                size = 4 << 20
                trials = 1
            }
            size = try a.bytes("--size") ?? size
            trials = try a.positive("--trials") ?? trials
            seed = try a.unsigned("--seed") ?? seed
            threads = try a.positive("--threads") ?? threads
            json = a.flag("--json")
            plot = a.string("--plot")
            try a.finish()
        }
    }

    enum Outcome: String {
        case exact, refused
        case wrong = "WRONG"
    }

    struct Result {
        let scenario: Scenario
        var outcomes: [Outcome] = []
        var details: [String] = []
        var errors: [String] = []
        var fromOtherCopy: [Int] = []
        var rebuilt: [Int] = []
        var bytesCorrected: [Int] = []
        var headersRepaired: [Int] = []
        var headsDamaged: [Int] = []
        var lostShards: [Int] = []
        /// Plaintext MB/s of the exact restores.
        var speeds: [Double] = []

        var worst: Outcome {
            outcomes.contains(.wrong) ? .wrong : outcomes.contains(.refused) ? .refused : .exact
        }
        func count(_ outcome: Outcome) -> Int { outcomes.filter { $0 == outcome }.count }
        var summary: String {
            if outcomes.allSatisfy({ $0 == outcomes.first }) { return outcomes.first?.rawValue ?? "-" }
            return [Outcome.exact, .refused, .wrong].filter { count($0) > 0 }
                .map { "\(count($0))/\(outcomes.count) \($0.rawValue)" }.joined(separator: ", ")
        }
    }

    let options: Options

    /// Returns false if any restore was WRONG.
    func run() throws -> Bool {
        let machine = Machine.current()
        let directory = scratchDirectory()
        defer { removeScratch(directory) }
        let data = TestData(kind: .random, poolSize: min(options.size, 16 << 20) + 12_345, seed: options.seed)
        let clean = "\(directory)/clean.dbs"
        let damaged = "\(directory)/damaged.dbs"
        try BackupRun.write(data, size: options.size, to: clean, options: BackupRun.options(threads: options.threads))
        let geometry = Geometry(try BackupInspector.inspect(path: clean))
        let cleanBytes = try readFile(clean)
        if !options.json {
            print(machine.text)
            print(
                "bitrot: \(formatBytes(options.size)) of random data, file \(cleanBytes.count) bytes, "
                    + "\(geometry.stripeCount) stripes per copy, \(options.trials) trial(s) per scenario, seed \(options.seed), "
                    + "restore with \(options.threads) threads\n")
        }
        var results: [Result] = []
        for (index, scenario) in Scenario.all.enumerated() {
            var result = Result(scenario: scenario)
            for trial in 0..<options.trials {
                var rng = SplitMix64(seed: options.seed &* 0x9E37_79B9 &+ UInt64(index * 1000 + trial))
                var bytes = cleanBytes
                result.details.append(scenario.apply(&bytes, geometry, &rng))
                try writeFile(bytes, to: damaged)
                let read = BackupRun.read(damaged, threads: options.threads, expected: data, size: options.size)
                let outcome: Outcome = read.wrong ? .wrong : read.exact ? .exact : .refused
                result.outcomes.append(outcome)
                if let error = read.error { result.errors.append(error) }
                let report = read.report ?? RepairReport()
                result.fromOtherCopy.append(report.totalShardsFromOtherCopy)
                result.rebuilt.append(report.totalShardsRebuilt)
                result.bytesCorrected.append(report.totalBytesCorrected)
                result.headersRepaired.append(report.totalHeadersRepaired)
                result.headsDamaged.append(report.headsDamaged.count)
                result.lostShards.append(report.lostShards.count)
                if outcome == .exact { result.speeds.append(Double(options.size) / read.seconds / 1e6) }
            }
            results.append(result)
        }
        if options.json {
            print(json(results, machine: machine, geometry: geometry, fileBytes: cleanBytes.count).rendered)
        } else {
            print(table(results))
            let wrong = results.filter { $0.worst == .wrong }
            print(
                wrong.isEmpty ? "\nWRONG: none." : "\nWRONG in: \(wrong.map(\.scenario.name).joined(separator: "; "))")
        }
        if let plot = options.plot {
            try writeText(
                SVGChart.outcomeGrid(
                    results,
                    title: "DBS bit-rot outcomes, \(formatBytes(options.size)) backup, "
                        + "\(options.trials) trial(s) each", machine: machine), to: plot)
        }
        return !results.contains { $0.worst == .wrong }
    }

    private func table(_ results: [Result]) -> String {
        markdownTable(
            [
                "damage", "level", "outcome", "from other copy", "rebuilt", "bytes corrected",
                "stripe headers repaired",
                "heads damaged", "lost shards", "restore MB/s", "django-dbs 0.1",
            ],
            results.map { r in
                [
                    r.scenario.kind, r.scenario.level, r.summary, mean(r.fromOtherCopy), mean(r.rebuilt),
                    mean(r.bytesCorrected), mean(r.headersRepaired), mean(r.headsDamaged), mean(r.lostShards),
                    r.speeds.isEmpty ? "-" : "\(Int(median(r.speeds).rounded()))", r.scenario.seed ?? "not known",
                ]
            })
    }

    private func json(_ results: [Result], machine: Machine, geometry: Geometry, fileBytes: Int) -> JSON {
        .object([
            ("mode", .string("bitrot")), ("machine", machine.json), ("size", .integer(options.size)),
            ("fileBytes", .integer(fileBytes)), ("stripesPerCopy", .integer(geometry.stripeCount)),
            ("trials", .integer(options.trials)), ("seed", .integer(Int(truncatingIfNeeded: options.seed))),
            ("threads", .integer(options.threads)),
            ("wrong", .bool(results.contains { $0.worst == .wrong })),
            (
                "scenarios",
                .array(
                    results.map { r in
                        .object([
                            ("kind", .string(r.scenario.kind)), ("level", .string(r.scenario.level)),
                            ("outcome", .string(r.worst.rawValue)),
                            ("exact", .integer(r.count(.exact))), ("refused", .integer(r.count(.refused))),
                            ("wrong", .integer(r.count(.wrong))),
                            ("shardsFromOtherCopy", .array(r.fromOtherCopy.map(JSON.integer))),
                            ("shardsRebuilt", .array(r.rebuilt.map(JSON.integer))),
                            ("bytesCorrected", .array(r.bytesCorrected.map(JSON.integer))),
                            ("headersRepaired", .array(r.headersRepaired.map(JSON.integer))),
                            ("headsDamaged", .array(r.headsDamaged.map(JSON.integer))),
                            ("lostShards", .array(r.lostShards.map(JSON.integer))),
                            ("restoreMBps", r.speeds.isEmpty ? .null : .number(median(r.speeds))),
                            ("damage", .array(r.details.map(JSON.string))),
                            ("errors", .array(r.errors.map(JSON.string))),
                            ("seedOutcome", r.scenario.seed.map(JSON.string) ?? .null),
                        ])
                    })
            ),
        ])
    }

    private func mean(_ values: [Int]) -> String {
        guard !values.isEmpty else { return "-" }
        let sum = values.reduce(0, +)
        return sum % values.count == 0 ? "\(sum / values.count)" : format2(Double(sum) / Double(values.count))
    }
}
