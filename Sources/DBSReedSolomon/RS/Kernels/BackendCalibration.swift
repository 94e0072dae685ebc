import DBSSystem

/// The backend a code gets when nobody names one, and why: `dbs version` prints both.
package struct BackendChoice: Sendable, Equatable, CustomStringConvertible {
    package let kind: RSBackendKind
    /// Why this backend: `DBS_RS_BACKEND=simd`, `the only fast backend in this build`,
    /// or the calibration's figures.
    package let reason: String
    package var description: String { "\(kind.rawValue) (\(reason))" }
}

/// Which fast kernel is fastest here, measured: ISA-L is not the fastest everywhere.
/// On this AVX2-only x86-64 machine (no AVX-512) the Swift SIMD kernel encodes a
/// stream of stripes faster than ISA-L's AVX2 code (1.34 against 0.91 GB per
/// CPU-second in `dbs-bench throughput`), cache-hot ISA-L is faster, and with AVX-512
/// ISA-L's lead grows; on arm64 nothing has been measured natively. A rule written from
/// CPU features would go stale with each new core and ISA-L release, so the choice is
/// measured once per process, at the first code built without an explicit backend, on
/// the engine's own hot operation.
///
/// The work is what a backup does: the default geometry's encode (the 16 x 239 parity
/// matrix of RS(255,239) over 4 KiB shards, as `BackupOptions` defaults) over a run of
/// `stripes` consecutive stripes, 4 MiB, more than a core's L2 cache, as the engine
/// encodes stripes it has just written. Where the inputs are decides: ISA-L reads every
/// input once per group of up to six parity rows (three times for 16 rows), the SIMD
/// kernel once for all rows. (On this machine the two are close over 4 MiB and the
/// load of the moment decides; docs/PERFORMANCE.md, "Choosing the default backend".)
///
/// A short screening first (256 columns of one stripe per kernel, best of two): only
/// the kernels within 8x of the fastest race on. Then `rounds` passes in alternating
/// order (the pages are written beforehand, so no pass pays page faults); each
/// kernel's best pass counts. Time is this thread's CPU time
/// (`CLOCK_THREAD_CPUTIME_ID`), so other processes preempting it on a shared machine do
/// not count against a kernel. A result within `tieMargin` of the first candidate's
/// (the registry's order: ISA-L, then SIMD) keeps the first: a coin toss is not worth
/// switching kernels for.
///
/// Not persisted: a stored choice goes stale when the machine, the libraries or the
/// binary change, and a library writing under $HOME would surprise its hosts. The cost
/// per process (15-30 ms of CPU here) is in docs/PERFORMANCE.md.
enum BackendCalibration {
    static let dataShards = 239, parityShards = 16, shardLength = 4096
    static let stripes = 4
    static let rounds = 2
    static let screeningColumns = 256
    static let screeningCutoff = 8.0
    static let tieMargin = 0.03

    /// One candidate's measured speed.
    struct Figure: Sendable, Equatable {
        let kind: RSBackendKind
        /// Input bytes per CPU-second of the best round.
        let bytesPerSecond: Double
    }

    /// The fastest of `candidates` (at least one), with the reason.
    static func choose(among candidates: [RSBackendKind]) -> BackendChoice {
        precondition(!candidates.isEmpty)
        if candidates.count == 1 {
            return BackendChoice(kind: candidates[0], reason: "the only fast backend in this build")
        }
        let started = seconds(CLOCK_THREAD_CPUTIME_ID)
        let figures = measure(candidates)
        return decide(figures, calibrationSeconds: seconds(CLOCK_THREAD_CPUTIME_ID) - started)
    }

    /// The decision alone, on given figures (tests check it without timing anything);
    /// `calibrationSeconds` is the CPU time the measurement took, for the reason.
    static func decide(_ figures: [Figure], calibrationSeconds: Double) -> BackendChoice {
        var best = figures[0]
        for figure in figures.dropFirst() where figure.bytesPerSecond > best.bytesPerSecond {
            best = figure
        }
        if best.kind != figures[0].kind && best.bytesPerSecond <= figures[0].bytesPerSecond * (1 + tieMargin) {
            best = figures[0]
        }
        let listed = figures.map { "\($0.kind.rawValue) \(formatRate($0.bytesPerSecond))" }.joined(separator: ", ")
        let work =
            "RS(\(dataShards + parityShards),\(dataShards)) encode of \(stripes) stripes of \(shardLength / 1024) KiB shards, one core"
        let cost = "\(Int((calibrationSeconds * 1000).rounded())) ms of CPU"
        return BackendChoice(kind: best.kind, reason: "fastest at first use: \(listed) GB/s (\(work); \(cost))")
    }

    /// Times every candidate on the same run of stripes.
    static func measure(_ candidates: [RSBackendKind]) -> [Figure] {
        let matrix = ReedSolomonMatrices(dataShards: dataShards, parityShards: parityShards).parity
        let stripeBytes = (dataShards + parityShards) * shardLength
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: stripes * stripeBytes)
        defer { buffer.deallocate() }
        // Both kernels' speed is independent of the bytes; writing them maps the pages.
        buffer.initialize(repeating: 0x5A, count: stripes * stripeBytes)
        let inputs = (0..<stripes).map { s in
            (0..<dataShards).map { UnsafePointer(buffer + s * stripeBytes + $0 * shardLength) }
        }
        let outputs = (0..<stripes).map { s in
            (0..<parityShards).map { buffer + s * stripeBytes + (dataShards + $0) * shardLength }
        }
        let prepared = candidates.map { kind in
            // Candidates come from the registry's available list: making one cannot fail.
            (try? KernelRegistry.kernel(for: kind, environmentValue: nil)).map { $0.prepare(matrix) }
        }
        /// Input bytes per CPU-second of `stripeCount` stripes' first `columns` columns.
        func rate(_ matrix: any PreparedGFMatrix, stripeCount: Int, columns: Int) -> Double {
            let start = seconds(CLOCK_THREAD_CPUTIME_ID)
            for s in 0..<stripeCount { matrix.apply(length: columns, inputs: inputs[s], outputs: outputs[s]) }
            let spent = seconds(CLOCK_THREAD_CPUTIME_ID) - start
            return spent > 0 ? Double(stripeCount * dataShards * columns) / spent : 0
        }
        // Screening on a sliver (the first `screeningColumns` columns of one stripe, best
        // of two): a kernel more than `screeningCutoff` times slower than the fastest
        // is out and its screening rate stands. This bounds the cost where one kernel
        // is very slow (an unoptimised debug build runs the SIMD kernel at 0.01 GB/s,
        // 100 times slower, and the CLI tests start `dbs` dozens of times) without
        // letting the sliver's noise decide between kernels of similar speed: with a
        // 2x cutoff and one apply, a cold first call put the SIMD kernel out in 2 runs
        // of 10 here.
        var best = prepared.map { matrix in
            matrix.map { m in (0..<2).map { _ in rate(m, stripeCount: 1, columns: screeningColumns) }.max()! } ?? 0
        }
        let screeningBest = best.max() ?? 0
        let racing = candidates.indices.filter {
            prepared[$0] != nil && best[$0] * screeningCutoff >= screeningBest
        }
        for index in racing { best[index] = 0 }
        for round in 0..<rounds {
            for index in round % 2 == 0 ? racing : racing.reversed() {
                guard let matrix = prepared[index] else { continue }
                best[index] = max(best[index], rate(matrix, stripeCount: stripes, columns: shardLength))
            }
        }
        return zip(candidates, best).map { Figure(kind: $0, bytesPerSecond: $1) }
    }

    private static func seconds(_ clock: clockid_t) -> Double {
        var now = timespec()
        clock_gettime(clock, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func formatRate(_ bytesPerSecond: Double) -> String {
        let hundredths = Int((bytesPerSecond / 1e7).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
