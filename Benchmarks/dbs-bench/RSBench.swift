import DBSKit
import DBSSystem
import Dispatch

/// The `rs` mode's settings.
struct RSBenchOptions {
    var backends: [RSBackendKind] = KernelRegistry.available.filter { $0 != .scalar }
    var mebibytes = 64
    var threads = [1, 2]
    var passes = 5
    var shardBytes = 4096
    var operations = RSBench.Operation.allCases
    let dataShards = 239
    let parityShards = 16

    struct BadArgument: Error, CustomStringConvertible {
        let argument: String
        var description: String { "bad argument: \(argument)" }
    }

    init(parsing arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BadArgument(argument: flag) }
            func list<T>(_ make: (String) -> T?) throws -> [T] {
                let items = value.split(separator: ",").map { make(String($0)) }
                guard !items.isEmpty, !items.contains(where: { $0 == nil }) else {
                    throw BadArgument(argument: "\(flag) \(value)")
                }
                return items.map { $0! }
            }
            func positive() throws -> Int {
                guard let n = Int(value), n > 0 else { throw BadArgument(argument: "\(flag) \(value)") }
                return n
            }
            switch flag {
            case "--backends": backends = try list { RSBackendKind(rawValue: $0) }
            case "--mib": mebibytes = try positive()
            case "--threads": threads = try list { Int($0).flatMap { $0 > 0 ? $0 : nil } }
            case "--passes": passes = try positive()
            case "--shard": shardBytes = try positive()
            case "--ops": operations = try list { RSBench.Operation(rawValue: $0) }
            default: throw BadArgument(argument: flag)
            }
        }
    }
}

/// Reed-Solomon kernel throughput on RS(255,239) stripes: encode (16 x 239 parity
/// matrix over the data shards), syndrome check (16 x 255 over the whole stripe) and
/// erasure decode of 16 lost data shards (16 x 239 solution matrix over the
/// survivors), each per backend and thread count. Figures are GB/s (10^9 bytes) of
/// the matrix's input shards, median of the passes.
struct RSBench {
    /// Kernel-level operations (one prepared matrix applied to each stripe), and the
    /// same three through the public codec's batch API (`ReedSolomon`).
    enum Operation: String, CaseIterable {
        case encode, syndrome, decode
        case codecEncode = "codec-encode"
        case codecSyndrome = "codec-syndrome"
        case codecDecode = "codec-decode"
        var isCodec: Bool { rawValue.hasPrefix("codec-") }
    }

    let options: RSBenchOptions

    func run() throws {
        let k = options.dataShards
        let m = options.parityShards
        let n = k + m
        let shard = options.shardBytes
        let stripeBytes = n * shard
        let stripes = max(1, options.mebibytes << 20 / (k * shard))
        print("cpu: \(CPUFeatures.current)")
        print(
            "rs: RS(\(n),\(k)) shard=\(shard) stripes=\(stripes) data=\(stripes * k * shard) bytes passes=\(options.passes)"
        )

        let codes = ReedSolomonMatrices(dataShards: k, parityShards: m)
        let lost = Array(0..<m)  // the first m data shards
        let (decodeMatrix, survivors) = codes.erasureSolution(erased: lost)

        // Stripes back to back: shard s of stripe i at (i * n + s) * shard.
        let stripeBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: stripes * stripeBytes)
        defer { stripeBuffer.deallocate() }
        var generator = SplitMix64(seed: 0xDB5)
        for i in 0..<(stripes * stripeBytes) { stripeBuffer[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: stripes * m * shard)
        defer { scratch.deallocate() }
        let scratchBytes = m * shard

        func shardPointer(_ stripe: Int, _ index: Int) -> UnsafeMutablePointer<UInt8> {
            stripeBuffer + stripe * stripeBytes + index * shard
        }

        // Prepared matrices per backend, each checked once: encoded stripes have zero
        // syndromes, and decoding restores the lost shards.
        var prepared: [(backend: RSBackendKind, matrices: [Operation: any PreparedGFMatrix])] = []
        for backend in options.backends {
            let kernel = try KernelRegistry.kernel(for: backend)
            let matrices: [Operation: any PreparedGFMatrix] = [
                .encode: kernel.prepare(codes.parity),
                .syndrome: kernel.prepare(codes.syndrome),
                .decode: kernel.prepare(decodeMatrix),
            ]
            runPass(stripes: stripes, threads: 1, matrix: matrices[.encode]!) { stripe in
                ((0..<k).map { UnsafePointer(shardPointer(stripe, $0)) }, (k..<n).map { shardPointer(stripe, $0) })
            }
            let out = (0..<m).map { scratch + $0 * shard }
            matrices[.syndrome]!.apply(
                length: shard, inputs: (0..<n).map { UnsafePointer(shardPointer(0, $0)) },
                outputs: out)
            guard out.allSatisfy({ p in (0..<shard).allSatisfy { p[$0] == 0 } }) else {
                throw CheckFailed(backend: backend, operation: .syndrome)
            }
            matrices[.decode]!.apply(
                length: shard, inputs: survivors.map { UnsafePointer(shardPointer(0, $0)) },
                outputs: out)
            guard
                lost.indices.allSatisfy({ i in (0..<shard).allSatisfy { out[i][$0] == shardPointer(0, lost[i])[$0] } })
            else {
                throw CheckFailed(backend: backend, operation: .decode)
            }
            prepared.append((backend, matrices))
        }

        // Backends take turns within each pass, so that they see the same machine load.
        for operation in options.operations where !operation.isCodec {
            let inputBytes = (operation == .syndrome ? n : k) * shard
            let buffers: (Int) -> ([UnsafePointer<UInt8>], [UnsafeMutablePointer<UInt8>]) = { stripe in
                switch operation {
                case .encode:
                    ((0..<k).map { UnsafePointer(shardPointer(stripe, $0)) }, (k..<n).map { shardPointer(stripe, $0) })
                case .syndrome:
                    (
                        (0..<n).map { UnsafePointer(shardPointer(stripe, $0)) },
                        (0..<m).map { scratch + stripe * scratchBytes + $0 * shard }
                    )
                case .decode, .codecEncode, .codecSyndrome, .codecDecode:
                    (
                        survivors.map { UnsafePointer(shardPointer(stripe, $0)) },
                        (0..<m).map { scratch + stripe * scratchBytes + $0 * shard }
                    )
                }
            }
            for threads in options.threads {
                var rates = [[Double]](repeating: [], count: prepared.count)
                var cpuRates = [[Double]](repeating: [], count: prepared.count)
                for _ in 0..<options.passes {
                    for (index, entry) in prepared.enumerated() {
                        let cpuBefore = processCPUSeconds()
                        let seconds = runPass(
                            stripes: stripes, threads: threads,
                            matrix: entry.matrices[operation]!, buffers: buffers)
                        let cpuSeconds = processCPUSeconds() - cpuBefore
                        rates[index].append(Double(stripes * inputBytes) / seconds / 1e9)
                        cpuRates[index].append(Double(stripes * inputBytes) / cpuSeconds / 1e9)
                    }
                }
                for (index, entry) in prepared.enumerated() {
                    report(operation, entry.backend, threads, rates[index], cpuRates[index])
                }
            }
        }
        try runCodec(stripes: stripes, lost: lost)
    }

    /// The codec's batch API on the same shape: `ReedSolomon.encode(stripes:)`,
    /// `consistency(stripes:)` and `reconstruct(stripes:erased:)` of 16 lost data shards.
    private func runCodec(stripes: Int, lost: [Int]) throws {
        let operations = options.operations.filter(\.isCodec)
        guard !operations.isEmpty else { return }
        let k = options.dataShards
        let m = options.parityShards
        let shard = options.shardBytes
        var generator = SplitMix64(seed: 0xC0DEC)
        var buffer = (0..<(stripes * (k + m) * shard)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let codes = try options.backends.map { backend throws(ReedSolomonError) in
            try ReedSolomon(dataShards: k, parityShards: m, backend: backend)
        }
        for code in codes {
            try code.encode(stripes: &buffer, shardLength: shard, threads: 1)
            guard try code.consistency(stripes: buffer, shardLength: shard, threads: 1).allSatisfy({ $0 }) else {
                throw CheckFailed(backend: code.backend, operation: .codecSyndrome)
            }
        }
        let reference = buffer
        for operation in operations {
            let inputBytes = (operation == .codecSyndrome ? k + m : k) * shard
            for threads in options.threads {
                var rates = [[Double]](repeating: [], count: codes.count)
                var cpuRates = [[Double]](repeating: [], count: codes.count)
                for _ in 0..<options.passes {
                    for (index, code) in codes.enumerated() {
                        let clock = ContinuousClock()
                        let cpuBefore = processCPUSeconds()
                        let start = clock.now
                        switch operation {
                        case .codecEncode:
                            try code.encode(stripes: &buffer, shardLength: shard, threads: threads)
                        case .codecSyndrome:
                            _ = try code.consistency(stripes: buffer, shardLength: shard, threads: threads)
                        default:
                            try code.reconstruct(stripes: &buffer, shardLength: shard, erased: lost, threads: threads)
                        }
                        let elapsed = clock.now - start
                        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                        let cpuSeconds = processCPUSeconds() - cpuBefore
                        rates[index].append(Double(stripes * inputBytes) / seconds / 1e9)
                        cpuRates[index].append(Double(stripes * inputBytes) / cpuSeconds / 1e9)
                    }
                }
                // Encoding and rebuilding consistent stripes rewrites the same bytes.
                guard buffer == reference else { throw CheckFailed(backend: codes[0].backend, operation: operation) }
                for (index, code) in codes.enumerated() {
                    report(operation, code.backend, threads, rates[index], cpuRates[index])
                }
            }
        }
    }

    private func report(
        _ operation: Operation, _ backend: RSBackendKind, _ threads: Int,
        _ rates: [Double], _ cpuRates: [Double]
    ) {
        let median = rates.sorted()[rates.count / 2]
        let cpuMedian = cpuRates.sorted()[cpuRates.count / 2]
        let all = rates.map(format3).joined(separator: " ")
        print(
            "rs \(operation.rawValue) backend=\(backend.rawValue) threads=\(threads) GB/s=\(format3(median)) per-cpu-second=\(format3(cpuMedian)) passes=[\(all)]"
        )
    }

    struct CheckFailed: Error, CustomStringConvertible {
        let backend: RSBackendKind
        let operation: Operation
        var description: String { "\(backend.rawValue) \(operation.rawValue) gave a wrong result" }
    }
    /// Applies `matrix` to every stripe, the stripes split into `threads` contiguous
    /// ranges run concurrently. Pointer lists are built before the clock starts.
    @discardableResult
    private func runPass(
        stripes: Int, threads: Int, matrix: any PreparedGFMatrix,
        buffers: (Int) -> ([UnsafePointer<UInt8>], [UnsafeMutablePointer<UInt8>])
    ) -> Double {
        let lists = (0..<stripes).map(buffers)
        let length = options.shardBytes
        nonisolated(unsafe) let work = lists
        let clock = ContinuousClock()
        let start = clock.now
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let range = (stripes * worker / threads)..<(stripes * (worker + 1) / threads)
            for stripe in range {
                matrix.apply(length: length, inputs: work[stripe].0, outputs: work[stripe].1)
            }
        }
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// User + system CPU time of the whole process so far: with `threads` workers, wall
/// time shows the speed-up the machine gave us, CPU time shows whether the workers
/// slowed each other down (on a shared machine the two differ).
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func format3(_ x: Double) -> String {
    let scaled = Int((x * 1000).rounded())
    let fraction = String(scaled % 1000)
    return "\(scaled / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

/// A small seeded generator, so every run fills the stripes with the same bytes.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
