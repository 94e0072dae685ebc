/// The portable kernel: pure Swift on 16-byte SIMD vectors, no C, no
/// architecture-specific code. It is what runs where ISA-L is absent, so it is built
/// for speed.
///
/// Why this shape. Portable Swift cannot emit a byte shuffle (the `SIMD` subscript
/// lookup becomes a per-lane loop), so ISA-L's split-nibble table lookup is out of
/// reach; only 16-byte vectors lower `&`, `^` and shifts to vector instructions.
///
/// So the kernel works on bit planes. Multiplication by a constant is linear over
/// GF(2): bit i of `coefficient * x` is the XOR of the bits j of `x` for which bit i
/// of `coefficient * 2^j` is set (an 8 x 8 bit matrix per coefficient). A 128-byte
/// block of an input, eight vectors, is transposed once into eight planes, plane j
/// holding bit j of all 128 bytes (three rounds of masked shifts and XORs, 72
/// instructions). Every output plane of every row is then an XOR of some of those
/// eight planes. The planes split into two groups of four, and for each group the 16
/// XOR combinations are built once per block and stored (22 XORs, 32 stores: the
/// "four Russians" table); each row's output plane then costs two loads and two XORs
/// per 16 bytes, whatever its coefficient, with the two entries' offsets fixed at
/// prepare time. A row's eight accumulated planes are transposed back into bytes once,
/// after its last input.
///
/// Measured against the kernel it replaced (RS(255,239), 4 KiB shards, one core of an
/// AMD EPYC): 1.70 against 1.01 GB/s of CPU time in a standalone loop, and 0.69 against
/// 0.38 of ISA-L's speed in `Benchmarks/rs-reference.sh` (figures in docs/PERFORMANCE.md,
/// "The portable SIMD backend"). That kernel split each coefficient
/// into 3-3-2 bit digits and stored the 17 digit products of every 64-byte input
/// block (seven doublings, nine XORs, 17 stores, shared by all rows), then paid three
/// loads and three XORs per 16 bytes per row; its products cost as much as its rows.
/// Here the per-row cost is two loads and two XORs per 16 bytes (the inner loop is
/// 13 instructions for 64 bytes of planes, ten of them loads) and the shared part,
/// transposition and tables, is about a quarter of the instructions. Also measured:
/// 8-block spans (1024 bytes, eight accumulators) gain about 2%, within noise; 4, 6 or
/// 12 inputs per chunk instead of 8 lose 2-5%. A full 256-entry table per plane
/// would save one load and one XOR per row but cost 511 instructions per block to
/// build, more than it saves at 16 rows.
///
/// Layout. A span of up to `spanBlocks` blocks of every shard is carried through all
/// inputs before moving on. Inputs come in chunks of `chunkColumns`: their tables are
/// built (16 KiB, inside L1), then every row's output planes run over them, each plane
/// of the span's blocks in registers. Partial sums between chunks live in a small
/// contiguous scratch rather than in the outputs, whose rows, 4 KiB apart, would all
/// fall into the same L1 sets. In a span shorter than `spanBlocks` blocks the missing
/// blocks' lanes are computed from stale (initialized) table bytes and never stored.
///
/// A tail shorter than one block goes through the scalar reference loop.
struct SIMDKernel: RSKernel {
    var kind: RSBackendKind { .simd }

    func prepare(_ matrix: GFMatrix) -> any PreparedGFMatrix { Prepared(matrix: matrix) }

    /// Sixteen bytes; 64-bit lanes make the transposition's shifts single instructions
    /// (its masks keep bits from crossing bytes).
    typealias Vector = SIMD2<UInt64>

    /// Bytes of a shard transposed together: eight vectors, eight planes.
    static let blockBytes = 128
    /// Blocks of each shard carried through all inputs before moving on.
    static let spanBlocks = 4
    static let spanBytes = spanBlocks * blockBytes
    /// Inputs whose tables are built before the rows run over them.
    static let chunkColumns = 8
    /// One table entry: the same XOR combination of planes for each block of a span.
    static let entryBytes = spanBlocks * 16
    /// One input's tables: two groups of four planes, 16 combinations each.
    static let columnTableBytes = 2 * 16 * entryBytes

    struct Prepared: PreparedGFMatrix {
        let matrix: GFMatrix
        /// For row r, output plane i, column c at `2 * ((r * 8 + i) * columns + c)`:
        /// the byte offsets, in the chunk's tables, of the entries for plane groups
        /// 0-3 and 4-7 that make up plane i of `matrix[r, c] * input c`.
        let tableOffsets: [UInt16]

        var rows: Int { matrix.rows }
        var columns: Int { matrix.columns }

        init(matrix: GFMatrix) {
            self.matrix = matrix
            var offsets = [UInt16](repeating: 0, count: 2 * 8 * matrix.rows * matrix.columns)
            for r in 0..<matrix.rows {
                for c in 0..<matrix.columns {
                    // Bit j of selections[i]: bit i of coefficient * 2^j.
                    var selections = SIMD8<UInt16>.zero
                    var image = matrix[r, c]
                    for j in 0..<8 {
                        for plane in 0..<8 { selections[plane] |= UInt16(image >> plane & 1) << j }
                        image = GF256.multiply(image, 2)
                    }
                    let column = (c % SIMDKernel.chunkColumns) * SIMDKernel.columnTableBytes
                    for plane in 0..<8 {
                        let selection = Int(selections[plane])
                        let slot = 2 * ((r * 8 + plane) * matrix.columns + c)
                        offsets[slot] = UInt16(column + (selection & 15) * SIMDKernel.entryBytes)
                        offsets[slot + 1] = UInt16(column + (16 + selection >> 4) * SIMDKernel.entryBytes)
                    }
                }
            }
            tableOffsets = offsets
        }

        func apply(
            length: Int,
            inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
            outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>
        ) {
            precondition(inputs.count == columns && outputs.count == rows)
            guard length > 0, rows > 0 else { return }
            guard columns > 0 else {
                for out in outputs { out.update(repeating: 0, count: length) }
                return
            }
            let blockBytes = SIMDKernel.blockBytes
            let bulk = length - length % blockBytes
            if bulk > 0 {
                let tableBytes = SIMDKernel.chunkColumns * SIMDKernel.columnTableBytes
                let scratchBytes = tableBytes + rows * 8 * SIMDKernel.entryBytes
                withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 64) { scratch in
                    let tables = scratch.baseAddress!
                    tables.initializeMemory(as: UInt8.self, repeating: 0, count: scratchBytes)
                    tableOffsets.withUnsafeBufferPointer { offsets in
                        for start in stride(from: 0, to: bulk, by: SIMDKernel.spanBytes) {
                            applySpan(
                                start: start, blocks: min(SIMDKernel.spanBlocks, (bulk - start) / blockBytes),
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

        /// One span of `blocks` blocks of every output, from byte `start`.
        @inline(__always)
        private func applySpan(
            start: Int, blocks: Int,
            tables: UnsafeMutableRawPointer,
            partialSums: UnsafeMutableRawPointer,
            offsets: UnsafePointer<UInt16>,
            inputs: UnsafeBufferPointer<UnsafePointer<UInt8>>,
            outputs: UnsafeBufferPointer<UnsafeMutablePointer<UInt8>>
        ) {
            let columns = self.columns
            let table = UnsafeRawPointer(tables)
            let entryBytes = SIMDKernel.entryBytes
            var chunkStart = 0
            while chunkStart < columns {
                let chunkEnd = min(chunkStart + SIMDKernel.chunkColumns, columns)
                let isFirstChunk = chunkStart == 0
                let isLastChunk = chunkEnd == columns
                for c in chunkStart..<chunkEnd {
                    let column = tables + (c - chunkStart) * SIMDKernel.columnTableBytes
                    for b in 0..<blocks {
                        SIMDKernel.buildTables(
                            of: UnsafeRawPointer(inputs[c] + start + b * SIMDKernel.blockBytes),
                            into: column + b * 16)
                    }
                }
                for r in 0..<rows {
                    // Row r's planes: plane i of block b at `i * entryBytes + b * 16`.
                    let rowPartial = partialSums + r * 8 * entryBytes
                    for plane in 0..<8 {
                        let partial = rowPartial + plane * entryBytes
                        @inline(__always) func load(_ offset: Int) -> Vector {
                            isFirstChunk ? .zero : partial.load(fromByteOffset: offset, as: Vector.self)
                        }
                        var a0 = load(0)
                        var a1 = load(16)
                        var a2 = load(32)
                        var a3 = load(48)
                        var offset = offsets + 2 * ((r * 8 + plane) * columns + chunkStart)
                        for _ in chunkStart..<chunkEnd {
                            let low = table + Int(offset[0])
                            let high = table + Int(offset[1])
                            offset += 2
                            @inline(__always) func entries(_ at: Int) -> Vector {
                                low.load(fromByteOffset: at, as: Vector.self)
                                    ^ high.load(fromByteOffset: at, as: Vector.self)
                            }
                            a0 ^= entries(0)
                            a1 ^= entries(16)
                            a2 ^= entries(32)
                            a3 ^= entries(48)
                        }
                        @inline(__always) func store(_ v: Vector, _ offset: Int) {
                            partial.storeBytes(of: v, toByteOffset: offset, as: Vector.self)
                        }
                        store(a0, 0)
                        store(a1, 16)
                        store(a2, 32)
                        store(a3, 48)
                    }
                    if isLastChunk {
                        let out = UnsafeMutableRawPointer(outputs[r] + start)
                        for b in 0..<blocks {
                            var planes = BitPlanes(loading: UnsafeRawPointer(rowPartial) + b * 16, stride: entryBytes)
                            planes.transpose()
                            planes.store(to: out + b * SIMDKernel.blockBytes, stride: 16)
                        }
                    }
                }
                chunkStart = chunkEnd
            }
        }
    }

    /// Transposes one 128-byte input block into planes and writes, for planes 0-3 and
    /// for planes 4-7, the 16 XOR combinations: combination s of a group at entry
    /// `group * 16 + s` (entries `entryBytes` apart), bit t of s selecting the group's
    /// plane t.
    @inline(__always)
    static func buildTables(of input: UnsafeRawPointer, into column: UnsafeMutableRawPointer) {
        var planes = BitPlanes(loading: input, stride: 16)
        planes.transpose()
        @inline(__always) func group(_ first: Int, _ p0: Vector, _ p1: Vector, _ p2: Vector, _ p3: Vector) {
            let base = column + first * entryBytes
            @inline(__always) func put(_ s: Int, _ v: Vector) {
                base.storeBytes(of: v, toByteOffset: s * entryBytes, as: Vector.self)
            }
            let p01 = p0 ^ p1
            let p23 = p2 ^ p3
            put(0, .zero)
            put(1, p0)
            put(2, p1)
            put(3, p01)
            put(4, p2)
            put(5, p2 ^ p0)
            put(6, p2 ^ p1)
            put(7, p2 ^ p01)
            put(8, p3)
            put(9, p3 ^ p0)
            put(10, p3 ^ p1)
            put(11, p3 ^ p01)
            put(12, p23)
            put(13, p23 ^ p0)
            put(14, p23 ^ p1)
            put(15, p23 ^ p01)
        }
        group(0, planes.p0, planes.p1, planes.p2, planes.p3)
        group(16, planes.p4, planes.p5, planes.p6, planes.p7)
    }

    /// Eight vectors seen as, for each byte position, an 8 x 8 bit matrix (vector k's
    /// byte, bit j). ``transpose()`` swaps the two indices: from eight byte vectors it
    /// makes eight bit planes, and back.
    struct BitPlanes {
        var p0, p1, p2, p3, p4, p5, p6, p7: Vector

        @inline(__always)
        init(loading base: UnsafeRawPointer, stride: Int) {
            @inline(__always) func at(_ i: Int) -> Vector {
                base.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            }
            p0 = at(0)
            p1 = at(1)
            p2 = at(2)
            p3 = at(3)
            p4 = at(4)
            p5 = at(5)
            p6 = at(6)
            p7 = at(7)
        }

        @inline(__always)
        func store(to base: UnsafeMutableRawPointer, stride: Int) {
            @inline(__always) func put(_ i: Int, _ v: Vector) {
                base.storeBytes(of: v, toByteOffset: i * stride, as: Vector.self)
            }
            put(0, p0)
            put(1, p1)
            put(2, p2)
            put(3, p3)
            put(4, p4)
            put(5, p5)
            put(6, p6)
            put(7, p7)
        }

        /// Three rounds of block swaps: 4 x 4 blocks between vectors four apart, 2 x 2
        /// between vectors two apart, single bits between neighbours.
        @inline(__always)
        mutating func transpose() {
            /// Exchanges the bits of `a` selected by `mask << shift` with those of `b`
            /// selected by `mask`.
            @inline(__always) func swap(_ a: inout Vector, _ b: inout Vector, _ shift: UInt64, _ mask: UInt64) {
                let t = ((a &>> shift) ^ b) & Vector(repeating: mask)
                b ^= t
                a ^= t &<< shift
            }
            let nibbles: UInt64 = 0x0F0F_0F0F_0F0F_0F0F
            let pairs: UInt64 = 0x3333_3333_3333_3333
            let bits: UInt64 = 0x5555_5555_5555_5555
            swap(&p0, &p4, 4, nibbles)
            swap(&p1, &p5, 4, nibbles)
            swap(&p2, &p6, 4, nibbles)
            swap(&p3, &p7, 4, nibbles)
            swap(&p0, &p2, 2, pairs)
            swap(&p1, &p3, 2, pairs)
            swap(&p4, &p6, 2, pairs)
            swap(&p5, &p7, 2, pairs)
            swap(&p0, &p1, 1, bits)
            swap(&p2, &p3, 1, bits)
            swap(&p4, &p5, 1, bits)
            swap(&p6, &p7, 1, bits)
        }
    }
}
