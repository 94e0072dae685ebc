import DBSIO
import DBSReedSolomon
import DBSSystem

/// Writes a container's records and heads (docs/FORMAT.md, "File layout", "Stripe
/// header", "Head"): the one place where stripe headers, records and heads are built,
/// so that a change to their format touches Integrity only. `StripeRecovery` and
/// `ContainerLocator` are its reading halves.
///
/// It serves the backup writer (copy A while the stream is sealed, then copy B from
/// copy A as read back, then the heads) and the repairer (both copies from the
/// recovered stripes, then the heads). Records go through the IO layer's
/// `BackgroundWriter`, in submission order, straight from the caller's buffers; each
/// call is one submission, so the caller's batching is the writes' batching. The
/// headers of a batch are computed in one parallel pass, a stripe per step.
package struct ContainerWriter: Sendable {
    let descriptor: BackupDescriptor
    let code: ReedSolomon
    private let file: PositionedFile
    private let background: BackgroundWriter
    private let threads: Int

    package init(file: PositionedFile, descriptor: BackupDescriptor, code: ReedSolomon, threads: Int) {
        self.file = file
        self.descriptor = descriptor
        self.code = code
        self.threads = threads
        background = BackgroundWriter(file: file)
    }

    /// Where copy A's records go while the stripe count is unknown (their offsets do not
    /// depend on it; copy B's and heads 1 and 2 do).
    package var streamingLayout: ContainerLayout { descriptor.layout(stripeCount: 0) }

    /// What a stripe header records besides the checksums.
    package struct Stripe: Sendable {
        package var index: UInt64
        /// Ciphertext bytes in the stripe (the rest of its data shards is zero padding).
        package var dataLength: Int
        package var isLast: Bool

        package init(index: UInt64, dataLength: Int, isLast: Bool) {
            self.index = index
            self.dataLength = dataLength
            self.isLast = isLast
        }
    }

    /// Copy A's records of `count` stripes, the first one `first`, whose data shards are
    /// the stream in `data` (stripe after stripe from byte 0, `streamLength` bytes of
    /// ciphertext, the rest zero): each stripe's parity goes into `parity` (stripe after
    /// stripe from byte 0), then its checksums and header; the records are written
    /// straight from the two buffers, and `completion` runs once they are (the caller's
    /// pool takes the buffers back there). With `endsStream` the last stripe is the
    /// container's last.
    package func writeCopyA(
        _ count: Int, first: UInt64, data: AlignedBuffer, parity: AlignedBuffer, streamLength: Int,
        endsStream: Bool, completion: @escaping @Sendable () -> Void
    ) throws(ContainerError) {
        let layout = streamingLayout
        let code = self.code
        let algorithm = descriptor.checksum
        let capacity = layout.stripeDataCapacity
        let shardSize = layout.shardSize
        let parityLength = layout.parityShards * shardSize
        let headers: [Result<[UInt8], ContainerError>] = Parallel.map(count: count, threads: threads) { i in
            Result { () throws(ContainerError) in
                do throws(ReedSolomonError) {
                    try code.encode(
                        data: data, at: i * capacity, parity: parity, at: i * parityLength,
                        shardLength: shardSize)
                } catch {
                    throw .encoding(error)
                }
                let table = data.withUnsafeBytes { data in
                    parity.withUnsafeBytes { parity in
                        ShardChecksums.table(
                            of: UnsafeRawBufferPointer(rebasing: data[(i * capacity)..<((i + 1) * capacity)]),
                            shardCount: layout.dataShards, shardSize: shardSize, algorithm: algorithm)
                            + ShardChecksums.table(
                                of: UnsafeRawBufferPointer(
                                    rebasing: parity[(i * parityLength)..<((i + 1) * parityLength)]),
                                shardCount: layout.parityShards, shardSize: shardSize, algorithm: algorithm)
                    }
                }
                let stripe = Stripe(
                    index: first + UInt64(i), dataLength: min(capacity, streamLength - i * capacity),
                    isLast: endsStream && i == count - 1)
                return header(copy: 0, stripe, checksums: table)
            }
        }
        var writes: [BackgroundWriter.Write] = []
        writes.reserveCapacity(3 * count)
        for i in 0..<count {
            let offset = layout.recordOffset(copy: 0, stripe: first + UInt64(i))
            let shards = offset + UInt64(layout.headerSize)
            writes.append(.init(bytes: try headers[i].get()[...], offset: offset))
            writes.append(.init(buffer: data, range: (i * capacity)..<((i + 1) * capacity), offset: shards))
            writes.append(
                .init(
                    buffer: parity, range: (i * parityLength)..<((i + 1) * parityLength),
                    offset: shards + UInt64(capacity)))
        }
        try submit(writes, completion: completion)
    }

    /// The records of every copy in `copies` for `stripes`, whose n shards lie back to
    /// back in `shards` with their data shards filled: the parity is computed here (the
    /// whole batch at once), then every stripe's checksums and headers.
    package func writeStripes(
        _ stripes: [Stripe], shards: inout [UInt8], copies: Range<Int>,
        layout: ContainerLayout
    ) throws(ContainerError) {
        let stripeSize = layout.stripeSize
        do {
            try code.encode(stripes: &shards, shardLength: layout.shardSize, threads: threads)
        } catch {
            throw .encoding(error)
        }
        let bytes = shards
        let algorithm = descriptor.checksum
        let headers: [[[UInt8]]] = Parallel.map(count: stripes.count, threads: threads) { i in
            let table = ShardChecksums.table(
                of: bytes[(i * stripeSize)..<((i + 1) * stripeSize)],
                shardCount: layout.totalShards, shardSize: layout.shardSize,
                algorithm: algorithm)
            return copies.map { copy in header(copy: copy, stripes[i], checksums: table) }
        }
        var writes: [BackgroundWriter.Write] = []
        writes.reserveCapacity(2 * stripes.count * copies.count)
        for (i, stripe) in stripes.enumerated() {
            for (j, copy) in copies.enumerated() {
                writes += record(
                    headers[i][j], shards: bytes[(i * stripeSize)..<((i + 1) * stripeSize)],
                    copy: copy, stripe: stripe.index, layout: layout)
            }
        }
        try submit(writes)
    }

    /// Copy B's records of `stripes`, copy A's as read back: the shards as read, each
    /// header copy A's with copy = B. A stripe that did not read back clean is refused
    /// (`.damagedSourceRecord`), so a bad copy A is never duplicated.
    package func writeCopyB(_ stripes: [StripeRecovery.Recovered], layout: ContainerLayout) throws(ContainerError) {
        var writes: [BackgroundWriter.Write] = []
        writes.reserveCapacity(2 * stripes.count)
        for stripe in stripes {
            guard stripe.repair.isClean, let source = stripe.header else {
                throw .damagedSourceRecord(stripe: stripe.index, stripe.repair)
            }
            let copyB = header(
                copy: 1, Stripe(index: stripe.index, dataLength: source.dataLength, isLast: source.isLast),
                checksums: source.checksums)
            writes += record(copyB, shards: stripe.shards[...], copy: 1, stripe: stripe.index, layout: layout)
        }
        try submit(writes)
    }

    /// Once every record is submitted: waits until they are written, sets the file's
    /// final length (what is not written yet, copy B while the writer verifies copy A,
    /// stays a hole until it is) and writes the three heads.
    package func writeHeads(
        _ layout: ContainerLayout, ciphertextLength: UInt64, chunkCount: UInt64
    ) throws(ContainerError) {
        try drain()
        do {
            try file.truncate(to: layout.fileLength)
            for index in 0..<3 {
                let head = Head(
                    headIndex: index, descriptor: descriptor, stripeCount: layout.stripeCount,
                    ciphertextLength: ciphertextLength, chunkCount: chunkCount)
                try file.write(head.encoded, at: layout.headBlockOffset(index))
            }
        } catch {
            throw .io(error)
        }
    }

    /// Waits until everything submitted is in the file; throws the first write failure.
    package func drain() throws(ContainerError) {
        do { try background.drain() } catch { throw .io(error) }
    }

    /// A stripe header as it is on disk.
    private func header(copy: Int, _ stripe: Stripe, checksums: [UInt8]) -> [UInt8] {
        StripeHeader(
            copy: copy, isLast: stripe.isLast, stripeIndex: stripe.index, dataLength: stripe.dataLength,
            descriptor: descriptor, checksums: checksums
        ).encoded
    }

    /// The writes of one record: its header, then its n shards.
    private func record(
        _ header: [UInt8], shards: ArraySlice<UInt8>, copy: Int, stripe: UInt64,
        layout: ContainerLayout
    ) -> [BackgroundWriter.Write] {
        let offset = layout.recordOffset(copy: copy, stripe: stripe)
        return [
            .init(bytes: header[...], offset: offset), .init(bytes: shards, offset: offset + UInt64(layout.headerSize)),
        ]
    }

    private func submit(
        _ writes: [BackgroundWriter.Write],
        completion: (@Sendable () -> Void)? = nil
    ) throws(ContainerError) {
        do { try background.submit(writes, completion: completion) } catch { throw .io(error) }
    }
}
