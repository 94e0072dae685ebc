/// One byte changed by ``ReedSolomon/correctColumns(stripe:shardLength:erasures:trusted:)``.
package struct ByteCorrection: Sendable, Equatable, Hashable {
    /// The column (byte offset within every shard).
    package var column: Int
    /// The shard whose byte changed.
    package var shard: Int
    package var old: UInt8
    package var new: UInt8

    package init(column: Int, shard: Int, old: UInt8, new: UInt8) {
        self.column = column
        self.shard = shard
        self.old = old
        self.new = new
    }
}

/// What per-column decoding did to a stripe.
package struct ColumnCorrectionReport: Sendable, Equatable {
    /// Every changed byte, ordered by column then shard.
    package var corrections: [ByteCorrection]
    /// Columns beyond the code's capacity (or whose only decoding would change a trusted
    /// shard), ascending. Their bytes were left exactly as they were.
    package var failedColumns: [Int]

    package init(corrections: [ByteCorrection] = [], failedColumns: [Int] = []) {
        self.corrections = corrections
        self.failedColumns = failedColumns
    }

    /// Whether every column now is a codeword.
    package var isComplete: Bool { failedColumns.isEmpty }
}

extension ReedSolomon {
    /// Errors-and-erasures decoding, column by column.
    ///
    /// The syndromes of every column are computed by the kernel in one pass; only the
    /// columns with non-zero syndromes or with erasures are decoded. In a column with f
    /// erasures and e errors at unknown shards, decoding succeeds while 2e + f ≤ m.
    /// A column is changed only when the decoder's answer passes every check (see
    /// ``ColumnDecoder``) and changes no trusted shard; otherwise it is reported in
    /// ``ColumnCorrectionReport/failedColumns`` and left untouched. Past capacity a
    /// column can still, rarely, sit within reach of a *different* codeword: that
    /// miscorrection is undetectable by any decoder, and the per-shard hashes above this
    /// layer are what catch it.
    ///
    /// - Parameters:
    ///   - erasures: column → shards whose byte in that column is unknown (for example
    ///     where the two copies of a stripe disagree). Columns not listed have none.
    ///   - trusted: shards known good (their hash verified): never changed. A column
    ///     whose decoding would change one fails instead.
    package func correctColumns(
        stripe: inout [UInt8], shardLength: Int,
        erasures: [Int: [Int]], trusted: Set<Int>
    )
        throws(ReedSolomonError) -> ColumnCorrectionReport
    {
        try checkStripe(count: stripe.count, shardLength: shardLength)
        var columnErasures: [Int: [Int]] = [:]
        for (column, shards) in erasures {
            guard (0..<shardLength).contains(column) else {
                throw .invalidColumn(column, shardLength: shardLength)
            }
            let pattern = try checkDistinctShards(shards)
            if !pattern.isEmpty { columnErasures[column] = pattern }
        }
        for shard in trusted { try checkShardIndex(shard) }

        let m = parityShards
        let n = totalShards
        var syndromes = [UInt8](repeating: 0, count: m * shardLength)
        stripe.withUnsafeBufferPointer { bytes in
            syndromes.withUnsafeMutableBufferPointer { output in
                StripeWork(code: self, shardLength: shardLength, stripes: 1, threads: 1)
                    .syndromes(
                        base: bytes.baseAddress!, stripe: 0, columns: 0..<shardLength,
                        into: output.baseAddress!)
            }
        }

        var report = ColumnCorrectionReport()
        var columnSyndromes = [UInt8](repeating: 0, count: m)
        for column in 0..<shardLength {
            var any: UInt8 = 0
            for j in 0..<m {
                columnSyndromes[j] = syndromes[j * shardLength + column]
                any |= columnSyndromes[j]
            }
            let erased = columnErasures[column] ?? []
            if any == 0 {
                // Already a codeword. With f ≤ m the erased bytes are then the unique
                // solution, i.e. already right; with more, nothing can vouch for them.
                if erased.count > m { report.failedColumns.append(column) }
                continue
            }
            guard let fixes = ColumnDecoder.decode(syndromes: columnSyndromes, erased: erased, totalShards: n),
                !fixes.contains(where: { trusted.contains($0.shard) })
            else {
                report.failedColumns.append(column)
                continue
            }
            for fix in fixes.sorted(by: { $0.shard < $1.shard }) {
                let index = fix.shard * shardLength + column
                let old = stripe[index]
                stripe[index] = old ^ fix.magnitude
                report.corrections.append(
                    ByteCorrection(column: column, shard: fix.shard, old: old, new: stripe[index]))
            }
        }
        return report
    }
}
