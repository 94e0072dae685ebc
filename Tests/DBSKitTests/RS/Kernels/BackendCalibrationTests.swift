import Testing

@testable import DBSKit
@testable import DBSReedSolomon

/// The default backend: measured at first use, overridden by DBS_RS_BACKEND, the
/// reason stated. Runs on whatever machine and build runs the suite.
@Suite("RS default backend")
struct BackendCalibrationTests {
    typealias Figure = BackendCalibration.Figure

    @Test("the faster backend wins; within the tie margin the first (ISA-L) stays")
    func decision() {
        let simdFaster = BackendCalibration.decide(
            [
                Figure(kind: .isal, bytesPerSecond: 1.04e9),
                Figure(kind: .simd, bytesPerSecond: 1.27e9),
            ],
            calibrationSeconds: 0.0042)
        #expect(simdFaster.kind == .simd)
        #expect(
            simdFaster.reason == "fastest at first use: isal 1.04, simd 1.27 GB/s "
                + "(RS(255,239) encode of 4 stripes of 4 KiB shards, one core; 4 ms of CPU)")
        let isalFaster = BackendCalibration.decide(
            [
                Figure(kind: .isal, bytesPerSecond: 3.6e9),
                Figure(kind: .simd, bytesPerSecond: 1.3e9),
            ],
            calibrationSeconds: 0.003)
        #expect(isalFaster.kind == .isal)
        let tie = BackendCalibration.decide(
            [
                Figure(kind: .isal, bytesPerSecond: 1.00e9),
                Figure(kind: .simd, bytesPerSecond: 1.02e9),
            ],
            calibrationSeconds: 0.003)
        #expect(tie.kind == .isal)
        let justOver = BackendCalibration.decide(
            [
                Figure(kind: .isal, bytesPerSecond: 1.00e9),
                Figure(kind: .simd, bytesPerSecond: 1.04e9),
            ],
            calibrationSeconds: 0.003)
        #expect(justOver.kind == .simd)
    }

    @Test("a build with one fast backend does not measure")
    func single() {
        #expect(
            BackendCalibration.choose(among: [.simd])
                == BackendChoice(kind: .simd, reason: "the only fast backend in this build"))
    }

    @Test("every candidate is measured, on the real kernels, at a plausible speed")
    func measured() {
        let candidates = KernelRegistry.available.filter { $0 != .scalar }
        let figures = BackendCalibration.measure(candidates)
        #expect(figures.map(\.kind) == candidates)
        // Above 1 MB/s even unoptimised under emulation; below 1 TB/s anywhere.
        #expect(figures.allSatisfy { $0.bytesPerSecond > 1e6 && $0.bytesPerSecond < 1e12 })
    }

    @Test("the process's default is the calibrated one unless DBS_RS_BACKEND names another")
    func defaultChoice() throws {
        let calibrated = KernelRegistry.calibrated
        #expect(KernelRegistry.available.filter { $0 != .scalar }.contains(calibrated.kind))
        #if ISAL
        #expect(calibrated.reason.hasPrefix("fastest at first use: isal "))
        #else
        #expect(calibrated.reason == "the only fast backend in this build")
        #endif
        #expect(try KernelRegistry.defaultChoice(environmentValue: nil) == calibrated)
        #expect(try KernelRegistry.defaultChoice(environmentValue: "") == calibrated)
        #expect(
            try KernelRegistry.defaultChoice(environmentValue: "Scalar")
                == BackendChoice(kind: .scalar, reason: "DBS_RS_BACKEND=Scalar"))
        #expect(throws: ReedSolomonError.unknownBackend("neon")) {
            try KernelRegistry.defaultChoice(environmentValue: "neon")
        }
        #if !ISAL
        #expect(throws: ReedSolomonError.backendUnavailable(.isal)) {
            try KernelRegistry.defaultChoice(environmentValue: "isal")
        }
        #endif
    }
}
