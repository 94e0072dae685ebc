import DBSSystem
import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSReedSolomon

/// Every backend built into this binary against the scalar reference, on random
/// matrices and lengths that hit every tail case of the vector paths.
@Suite("RS kernels")
struct RSKernelTests {
    /// Lengths around the SIMD kernel's 16-byte lanes, 64-byte blocks and 512-byte
    /// spans, and ISA-L's 16/32/64-byte vectors.
    static let lengths = [1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 511, 513, 1000, 4095, 4096, 4097]
    static let fastBackends = KernelRegistry.available.filter { $0 != .scalar }

    @Test("matches the scalar kernel on random matrices", arguments: fastBackends)
    func matchesScalar(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 0x5EED)  // the same cases for every backend
        let kernel = try KernelRegistry.kernel(for: backend)
        let shapes = [
            (1, 1), (1, 2), (2, 1), (3, 5), (6, 10), (7, 13), (16, 239), (16, 255),
            (17, 30), (32, 8), (255, 1), (255, 3), (1, 255),
        ]
        for (rows, columns) in shapes {
            let matrix = randomMatrix(rows: rows, columns: columns, using: &rng)
            for length in Self.lengths where rows * columns * length <= 1 << 21 {
                try expectSameAsScalar(kernel, matrix, length: length, using: &rng)
            }
        }
        // More random shapes and lengths.
        for _ in 0..<40 {
            let rows = Int.random(in: 1...20, using: &rng)
            let columns = Int.random(in: 1...40, using: &rng)
            let length = Int.random(in: 1...3000, using: &rng)
            try expectSameAsScalar(
                kernel, randomMatrix(rows: rows, columns: columns, using: &rng),
                length: length, using: &rng)
        }
    }

    @Test(
        "identity copies, zero matrix zeroes, output is overwritten",
        arguments: KernelRegistry.available)
    func identityAndZero(backend: RSBackendKind) throws {
        var rng = SeededGenerator(seed: 7)
        let kernel = try KernelRegistry.kernel(for: backend)
        for (size, length) in [(1, 1), (5, 33), (16, 4097)] {
            let inputs = (0..<size).map { _ in rng.bytes(length) }
            // Garbage in the outputs: apply must overwrite, not accumulate.
            var outputs = (0..<size).map { _ in [UInt8](repeating: 0xA5, count: length) }
            run(kernel.prepare(.identity(size)), length: length, inputs: inputs, outputs: &outputs)
            #expect(outputs == inputs)
            run(kernel.prepare(GFMatrix(rows: size, columns: size)), length: length, inputs: inputs, outputs: &outputs)
            #expect(outputs.allSatisfy { $0.allSatisfy { $0 == 0 } })
        }
    }

    @Test("a single coefficient multiplies every byte value", arguments: KernelRegistry.available)
    func everyProduct(backend: RSBackendKind) throws {
        let kernel = try KernelRegistry.kernel(for: backend)
        let input = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
        for coefficient in 0...255 {
            var outputs = [[UInt8](repeating: 0, count: input.count)]
            run(
                kernel.prepare(GFMatrix(rows: 1, columns: 1, elements: [UInt8(coefficient)])),
                length: input.count, inputs: [input], outputs: &outputs)
            let expected = input.map { GF256.multiply(UInt8(coefficient), $0) }
            let wrong = expected.indices.first { outputs[0][$0] != expected[$0] }
            #expect(wrong == nil, "\(backend) coefficient \(coefficient): wrong at byte \(String(describing: wrong))")
        }
    }

    @Test("a DBS_RS_BACKEND value selects the backend; a bad or unavailable one throws")
    func environmentValues() throws {
        #expect(try KernelRegistry.kernel(for: nil, environmentValue: nil).kind == KernelRegistry.calibrated.kind)
        #expect(try KernelRegistry.kernel(for: nil, environmentValue: "").kind == KernelRegistry.calibrated.kind)
        for kind in KernelRegistry.available {
            #expect(try KernelRegistry.kernel(for: nil, environmentValue: kind.rawValue).kind == kind)
            #expect(try KernelRegistry.kernel(for: kind, environmentValue: nil).kind == kind)
        }
        #expect(try KernelRegistry.kernel(for: nil, environmentValue: "SIMD").kind == .simd)
        // An explicit request wins over the variable, even a bad one.
        #expect(try KernelRegistry.kernel(for: .scalar, environmentValue: "avx9000").kind == .scalar)
        #expect(throws: ReedSolomonError.unknownBackend("avx9000")) {
            try KernelRegistry.kernel(for: nil, environmentValue: "avx9000")
        }
        #if ISAL
        #expect(KernelRegistry.available == [.isal, .simd, .scalar])
        #else
        #expect(KernelRegistry.available == [.simd, .scalar])
        #expect(throws: ReedSolomonError.backendUnavailable(.isal)) {
            try KernelRegistry.kernel(for: nil, environmentValue: "isal")
        }
        #expect(throws: ReedSolomonError.backendUnavailable(.isal)) { try KernelRegistry.kernel(for: .isal) }
        #endif
    }

    @Test("DBS_RS_BACKEND in the process environment is read")
    func environmentVariable() throws {
        // Only valid values are set here: other suites running in parallel may ask for
        // the default kernel meanwhile, and every backend gives the same bytes.
        let name = KernelRegistry.environmentVariable
        let saved = getenv(name).map { String(cString: $0) }
        defer {
            if let saved { setenv(name, saved, 1) } else { unsetenv(name) }
        }
        for kind in KernelRegistry.available.reversed() {
            setenv(name, kind.rawValue, 1)
            #expect(try KernelRegistry.kernel(for: nil).kind == kind)
        }
    }

    @Test("the scalar reference agrees with GF256.multiply")
    func scalarReference() {
        var rng = SeededGenerator(seed: 11)
        let matrix = randomMatrix(rows: 3, columns: 4, using: &rng)
        let inputs = (0..<4).map { _ in rng.bytes(37) }
        var outputs = (0..<3).map { _ in [UInt8](repeating: 0, count: 37) }
        run(ScalarKernel().prepare(matrix), length: 37, inputs: inputs, outputs: &outputs)
        for r in 0..<3 {
            for i in 0..<37 {
                let expected = (0..<4).reduce(UInt8(0)) { $0 ^ GF256.multiply(matrix[r, $1], inputs[$1][i]) }
                #expect(outputs[r][i] == expected)
            }
        }
    }

    // MARK: - Helpers

    private func expectSameAsScalar(
        _ kernel: any RSKernel, _ matrix: GFMatrix, length: Int,
        using rng: inout SeededGenerator,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let inputs = (0..<matrix.columns).map { _ in rng.bytes(length) }
        var expected = (0..<matrix.rows).map { _ in [UInt8](repeating: 0, count: length) }
        var actual = (0..<matrix.rows).map { _ in rng.bytes(length) }
        run(ScalarKernel().prepare(matrix), length: length, inputs: inputs, outputs: &expected)
        run(kernel.prepare(matrix), length: length, inputs: inputs, outputs: &actual)
        // Report the first wrong byte rather than dumping whole shards.
        let mismatch = zip(actual, expected).enumerated().lazy.compactMap { row, pair in
            pair.0.indices.first { pair.0[$0] != pair.1[$0] }.map { (row: row, index: $0) }
        }.first
        #expect(
            mismatch == nil,
            "\(kernel.kind) \(matrix.rows)x\(matrix.columns) length \(length): first difference \(String(describing: mismatch))",
            sourceLocation: sourceLocation)
    }

    private func run(
        _ prepared: any PreparedGFMatrix, length: Int,
        inputs: [[UInt8]], outputs: inout [[UInt8]]
    ) {
        // Separate allocations per shard, so an overrun hits the address sanitizer.
        let inputBuffers = inputs.map { bytes in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: length)
            p.initialize(from: bytes, count: length)
            return p
        }
        let outputBuffers = outputs.map { bytes in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: length)
            p.initialize(from: bytes, count: length)
            return p
        }
        defer { (inputBuffers + outputBuffers).forEach { $0.deallocate() } }
        prepared.apply(length: length, inputs: inputBuffers.map { UnsafePointer($0) }, outputs: outputBuffers)
        outputs = outputBuffers.map { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private func randomMatrix(rows: Int, columns: Int, using rng: inout SeededGenerator) -> GFMatrix {
        GFMatrix(rows: rows, columns: columns, elements: rng.bytes(rows * columns))
    }

}
