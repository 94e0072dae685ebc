/// The portable kernel: pure Swift on `SIMD16<UInt8>`, no C, no architecture-specific
/// code. It is what runs where ISA-L is absent, so it is built for speed.
///
/// Why this shape. Portable Swift cannot emit a byte shuffle (the `SIMD` subscript
/// lookup becomes a per-lane loop), so ISA-L's split-nibble table lookup is out of
/// reach; and only `SIMD16<UInt8>` lowers `&`, `^`, `&<<`, `&>>` to vector
/// instructions (wider byte vectors become byte loops). A multiply by one constant
/// then costs a chain of doublings, too slow to repeat for every output row.
///
/// So the work is shared between rows. A coefficient splits into three digits, bits
/// 0-2, 3-5 and 6-7; multiplication distributes over XOR, so
/// `coefficient * x = (d0 * x) ^ ((d1 << 3) * x) ^ ((d2 << 6) * x)`. For each 64-byte
/// block of an input shard the kernel computes, once, the 7 + 7 + 3 non-zero digit
/// products (seven doublings, nine XORs, 17 stores); every output row then costs
/// three loads and three XORs per 16 bytes, whatever its coefficient. (Nibble digits
/// save a load per row but cost 30 stores per input block instead of 17: measured
/// equal at 16 rows, as are 128-byte blocks; the kernel is bound by instruction count,
/// about 2.5 times ISA-L's per byte, half of it the doublings and stores of the
/// products.) The products of a chunk of `chunkColumns` inputs stay in L1 while every
/// row's accumulators run over them in registers; the byte offsets of each
/// coefficient's three products are computed at prepare time.
/// Partial sums live in a small contiguous scratch rather than in the outputs, whose
/// rows, 4 KiB apart, would all fall into the same L1 sets.
///
/// A tail shorter than one block goes through the scalar reference loop.
struct SIMDKernel: RSKernel {
    var kind: RSBackendKind { .simd }

    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix { Prepared(matrix: matrix) }

    /// Bytes of each shard processed per block: four `SIMD16<UInt8>` accumulators per row.
    static let blockBytes = 64
    /// Inputs whose products are built before the rows run over them
    /// (8 x 17 x 64 bytes: 8.5 KiB, well inside L1).
    static let chunkColumns = 8
    /// Products stored per input column: 7 + 7 + 3 non-zero digit values.
    static let entriesPerColumn = 17
    /// Bytes of each shard carried through all inputs before moving on; the rows'
    /// partial sums for one span (16 x 512 bytes at 16 rows) stay in L1.
    static let spanBytes = 512
    /// Each digit: where its products start among a column's entries, its shift, its mask.
    static let digits: [(firstEntry: Int, shift: Int, mask: Int)] = [(0, 0, 7), (7, 3, 7), (14, 6, 3)]
    /// 16-bit offsets stored per coefficient: one per digit, padded to a power of two.
    static let offsetSlots = 4

    struct Prepared: PreparedGFMatrix {
        let matrix: GFMatrix
        /// For row r, column c at `offsetSlots * (r * columns + c)`: the byte offsets,
        /// in the chunk's scratch, of the three digit products of `matrix[r, c]` (a zero
        /// digit points at the zero block at offset 0), then padding.
        let tableOffsets: [UInt16]

        var rows: Int { matrix.rows }
        var columns: Int { matrix.columns }

        init(matrix: GFMatrix) {
            self.matrix = matrix
            var offsets = [UInt16]()
            offsets.reserveCapacity(SIMDKernel.offsetSlots * matrix.rows * matrix.columns)
            for r in 0..<matrix.rows {
                for c in 0..<matrix.columns {
                    let coefficient = Int(matrix[r, c])
                    let column = 1 + (c % SIMDKernel.chunkColumns) * SIMDKernel.entriesPerColumn
                    for digit in SIMDKernel.digits {
                        let value = coefficient >> digit.shift & digit.mask
                        let entry = value == 0 ? 0 : column + digit.firstEntry + value - 1
                        offsets.append(UInt16(entry * SIMDKernel.blockBytes))
                    }
                    offsets.append(contentsOf: repeatElement(0, count: SIMDKernel.offsetSlots - SIMDKernel.digits.count))
                }
            }
            tableOffsets = offsets
        }

        func apply(length: Int,
                   inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
                   outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>) {
            precondition(inputs.count == columns && outputs.count == rows)
            guard length > 0, rows > 0 else { return }
            guard columns > 0 else {
                for out in outputs { out.update(repeating: 0, count: length) }
                return
            }
            let blockBytes = SIMDKernel.blockBytes
            let bulk = length - length % blockBytes
            if bulk > 0 {
                let tableBytes = (1 + SIMDKernel.chunkColumns * SIMDKernel.entriesPerColumn) * blockBytes
                let scratchBytes = tableBytes + rows * SIMDKernel.spanBytes
                withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 64) { scratch in
                    let tables = scratch.baseAddress!
                    tables.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)  // the zero block
                    tableOffsets.withUnsafeBufferPointer { offsets in
                        for start in stride(from: 0, to: bulk, by: SIMDKernel.spanBytes) {
                            applySpan(start..<min(start + SIMDKernel.spanBytes, bulk),
                                      tables: tables, partialSums: tables + tableBytes,
                                      offsets: offsets.baseAddress!, inputs: inputs, outputs: outputs)
                        }
                    }
                }
            }
            if bulk < length {
                ScalarKernel.multiply(matrix, range: bulk..<length, inputs: inputs, outputs: outputs)
            }
        }

        /// One span (a whole number of blocks) of every output: chunk of inputs by
        /// chunk of inputs, and within a chunk block by block, so that each input is
        /// read as a short sequential run (kind to the prefetcher).
        @inline(__always)
        private func applySpan(_ span: Range<Int>,
                               tables: UnsafeMutableRawPointer,
                               partialSums: UnsafeMutableRawPointer,
                               offsets: UnsafePointer<UInt16>,
                               inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
                               outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>) {
            let columns = self.columns
            let table = UnsafeRawPointer(tables)
            var chunkStart = 0
            while chunkStart < columns {
                let chunkEnd = min(chunkStart + SIMDKernel.chunkColumns, columns)
                let isFirstChunk = chunkStart == 0, isLastChunk = chunkEnd == columns
                for start in stride(from: span.lowerBound, to: span.upperBound, by: SIMDKernel.blockBytes) {
                    for c in chunkStart..<chunkEnd {
                        let entry = (1 + (c - chunkStart) * SIMDKernel.entriesPerColumn) * SIMDKernel.blockBytes
                        buildProducts(of: UnsafeRawPointer(inputs[c] + start), into: tables + entry)
                    }
                    for r in 0..<rows {
                        let partial = partialSums + r * SIMDKernel.spanBytes + (start - span.lowerBound)
                        // The block's partial sums stay in registers, 16 bytes each.
                        var a0, a1, a2, a3: SIMD16<UInt8>
                        if isFirstChunk {
                            a0 = .zero; a1 = .zero; a2 = .zero; a3 = .zero
                        } else {
                            @inline(__always) func load(_ offset: Int) -> SIMD16<UInt8> {
                                partial.load(fromByteOffset: offset, as: SIMD16<UInt8>.self)
                            }
                            a0 = load(0); a1 = load(16); a2 = load(32); a3 = load(48)
                        }
                        let rowOffsets = offsets + SIMDKernel.offsetSlots * r * columns
                        for c in chunkStart..<chunkEnd {
                            let coefficient = rowOffsets + SIMDKernel.offsetSlots * c
                            let p0 = table + Int(coefficient[0])
                            let p1 = table + Int(coefficient[1])
                            let p2 = table + Int(coefficient[2])
                            @inline(__always) func product(_ offset: Int) -> SIMD16<UInt8> {
                                p0.load(fromByteOffset: offset, as: SIMD16<UInt8>.self)
                                    ^ p1.load(fromByteOffset: offset, as: SIMD16<UInt8>.self)
                                    ^ p2.load(fromByteOffset: offset, as: SIMD16<UInt8>.self)
                            }
                            a0 ^= product(0); a1 ^= product(16); a2 ^= product(32); a3 ^= product(48)
                        }
                        let destination = isLastChunk ? UnsafeMutableRawPointer(outputs[r] + start) : partial
                        @inline(__always) func store(_ v: SIMD16<UInt8>, _ offset: Int) {
                            destination.storeBytes(of: v, toByteOffset: offset, as: SIMD16<UInt8>.self)
                        }
                        store(a0, 0); store(a1, 16); store(a2, 32); store(a3, 48)
                    }
                }
                chunkStart = chunkEnd
            }
        }
    }

    /// Writes the 17 digit products of one 64-byte input block, each 64 bytes:
    /// entries 0..<7 hold `v * x` (v = 1..<8), 7..<14 hold `(v << 3) * x`, 14..<17 hold
    /// `(v << 6) * x` (v = 1..<4).
    @inline(__always)
    static func buildProducts(of input: UnsafeRawPointer, into table: UnsafeMutableRawPointer) {
        for lane in stride(from: 0, to: blockBytes, by: 16) {
            let x = input.loadUnaligned(fromByteOffset: lane, as: SIMD16<UInt8>.self)
            let base = table + lane
            @inline(__always) func put(_ entry: Int, _ v: SIMD16<UInt8>) {
                base.storeBytes(of: v, toByteOffset: entry * blockBytes, as: SIMD16<UInt8>.self)
            }
            @inline(__always) func putThreeBits(_ first: Int, _ x1: SIMD16<UInt8>) -> SIMD16<UInt8> {
                let x2 = double(x1), x4 = double(x2), x3 = x2 ^ x1
                put(first, x1); put(first + 1, x2); put(first + 2, x3); put(first + 3, x4)
                put(first + 4, x4 ^ x1); put(first + 5, x4 ^ x2); put(first + 6, x4 ^ x3)
                return x4
            }
            let x4 = putThreeBits(0, x)
            let x32 = putThreeBits(7, double(x4))
            let x64 = double(x32), x128 = double(x64)
            put(14, x64); put(15, x128); put(16, x64 ^ x128)
        }
    }

    /// Multiplication by 2 (α) in GF(2^8) mod 0x11D, lane-wise: shift left, and fold the
    /// carried-out top bit back in as 0x1D.
    @inline(__always)
    static func double(_ x: SIMD16<UInt8>) -> SIMD16<UInt8> {
        let carry = SIMD16<UInt8>.zero &- (x &>> 7)
        return (x &<< 1) ^ (carry & 0x1D)
    }
}
