// The arm64 probe of scripts/test-arm64.sh: the kernels' own sources (CPU features,
// ISA-L's dispatch, the scalar, SIMD and ISA-L kernels) compiled alone into one small
// program, so that their answers on arm64 come in minutes under emulation, before the
// whole package has built (hours). Prints what the CPU offers, which kernel ISA-L's
// dispatcher picks, and checks the SIMD and ISA-L kernels against the scalar
// reference on random matrices and lengths around every vector width; exits 1 on
// any difference.

import DBSSystem

var state: UInt64 = 0x5EED_0F_A64
func nextByte() -> UInt8 {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return UInt8(truncatingIfNeeded: state >> 56)
}

print("cpu: \(CPUFeatures.current)")
print("isa-l encode kernel: \(ISALDispatch.encodeKernel ?? "not known")")

let kernels: [any RSKernel] = [SIMDKernel(), ISALKernel()]
let shapes = [(1, 1), (3, 5), (6, 10), (7, 13), (16, 239), (17, 30), (32, 8)]
let lengths = [1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 511, 513, 4095, 4096, 4097]
var failures = 0
for kernel in kernels {
    var cases = 0, differ = 0
    for (rows, columns) in shapes {
        let matrix = GFMatrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in nextByte() })
        let reference = ScalarKernel().prepare(matrix), prepared = kernel.prepare(matrix)
        for length in lengths where rows * columns * length <= 1 << 21 {
            let inputs = (0..<columns).map { _ in (0..<length).map { _ in nextByte() } }
            func run(_ p: any PreparedGFMatrix) -> [[UInt8]] {
                let ins = inputs.map { bytes in
                    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: length)
                    buffer.initialize(from: bytes, count: length)
                    return buffer
                }
                let outs = (0..<rows).map { _ in
                    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: length)
                    buffer.initialize(repeating: 0xA5, count: length)  // apply must overwrite
                    return buffer
                }
                defer { ins.forEach { $0.deallocate() }; outs.forEach { $0.deallocate() } }
                p.apply(length: length, inputs: ins.map { UnsafePointer($0) }, outputs: outs)
                return outs.map { Array(UnsafeBufferPointer(start: $0, count: length)) }
            }
            cases += 1
            if run(prepared) != run(reference) {
                differ += 1
                print("MISMATCH: \(kernel.kind) \(rows)x\(columns) length \(length)")
            }
        }
    }
    print("\(kernel.kind): \(cases) cases against the scalar reference, \(differ == 0 ? "all equal" : "\(differ) differ")")
    failures += differ
}
exit(failures == 0 ? 0 : 1)
