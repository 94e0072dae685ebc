import DBSSystem
import DBSTestSupport
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// The container writer against the container's readers: records written read back
/// clean through `StripeRecovery` (both copies, whichever way they were written), heads
/// written are located by `ContainerLocator`, and a damaged copy A is not duplicated.
@Suite("Integrity: container writer")
struct ContainerWriterTests {
    static let descriptor = BackupDescriptor(
        backupID: Array(1...16), created: 1_700_000_000, salt: Array(repeating: 7, count: 16),
        kdf: Fixture.fastKDF, wrappedKey: Array(repeating: 9, count: 60), chunkSize: 3000, compression: .none,
        checksum: .xxh3_128, copies: 2, dataShards: 4, parityShards: 2, shardSize: 512)

    /// A temp file to write a container into, and where it is.
    struct Scratch {
        let directory = Fixture.temporaryDirectory()
        var path: String { directory + "/c.dbs" }
        func cleanup() { Fixture.removeDirectory(directory) }
    }

    static func writer(_ file: PositionedFile) throws -> ContainerWriter {
        let code = try ReedSolomon(dataShards: descriptor.dataShards, parityShards: descriptor.parityShards)
        return ContainerWriter(file: file, descriptor: descriptor, code: code, threads: 2)
    }

    /// `count` stripes of data (the last one partly padding) in one buffer, parity shards zero.
    static func stripes(_ count: Int, streamLength: Int, layout: ContainerLayout) -> [UInt8] {
        var shards = [UInt8](repeating: 0, count: count * layout.stripeSize)
        let stream = Fixture.randomBytes(streamLength, seed: 3)
        for i in 0..<count {
            let range = (i * layout.stripeDataCapacity)..<min(streamLength, (i + 1) * layout.stripeDataCapacity)
            shards.replaceSubrange((i * layout.stripeSize)..<(i * layout.stripeSize + range.count), with: stream[range])
        }
        return shards
    }

    @Test func recordsAndHeadsReadBack() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let file = try PositionedFile.createExclusive(scratch.path)
        let writer = try Self.writer(file)
        let layout = Self.descriptor.layout(stripeCount: 3)
        let capacity = layout.stripeDataCapacity
        let streamLength = 2 * capacity + 100
        var shards = Self.stripes(3, streamLength: streamLength, layout: layout)
        let data = shards
        let placed = (0..<3).map {
            ContainerWriter.Stripe(
                index: UInt64($0), dataLength: min(capacity, streamLength - $0 * capacity),
                isLast: $0 == 2)
        }
        try writer.writeStripes(placed, shards: &shards, copies: 0..<2, layout: layout)
        try writer.writeHeads(layout, ciphertextLength: UInt64(streamLength), chunkCount: 5)

        let reading = try PositionedFile.openForReading(scratch.path)
        let located = try ContainerLocator.locate(reading)
        #expect(located.layout == layout && located.descriptor == Self.descriptor && !located.fromScan)
        #expect(located.heads == [.intact, .intact, .intact] && located.fileLength == layout.fileLength)
        #expect(located.ciphertextLength == UInt64(streamLength) && located.chunkCount == 5)

        let recovery = try StripeRecovery(
            file: reading, fileLength: located.fileLength, descriptor: Self.descriptor,
            layout: layout)
        for stripe in placed {
            let recovered = recovery.recover(stripe.index, examineBothCopies: true)
            #expect(recovered.repair.isClean && recovered.checksumVerified)
            #expect(recovered.dataLength == stripe.dataLength && recovered.isLast == stripe.isLast)
            let start = Int(stripe.index) * layout.stripeSize
            #expect(recovered.data == data[start..<(start + stripe.dataLength)])
            #expect(try recovery.code.isConsistent(stripe: recovered.shards, shardLength: layout.shardSize))
            #expect(
                recovery.isIntact(copy: 0, stripe: stripe.index) && recovery.isIntact(copy: 1, stripe: stripe.index))
        }
    }

    /// The backup writer's way: copy A streamed from pool buffers, then copy B from copy
    /// A as read back.
    @Test func copyAStreamedThenCopyBFromItReadBack() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let file = try PositionedFile.createExclusive(scratch.path)
        let writer = try Self.writer(file)
        let layout = Self.descriptor.layout(stripeCount: 3)
        let capacity = layout.stripeDataCapacity
        let parityLength = layout.parityShards * layout.shardSize
        let streamLength = 3 * capacity - 7
        let stream = Fixture.randomBytes(streamLength, seed: 8)
        let data = AlignedBuffer(count: 3 * capacity)
        let parity = AlignedBuffer(count: 3 * parityLength)
        stream.withUnsafeBytes { _ = data.copy($0, to: 0) }
        // Two batches, as the sealing stage hands them over.
        try writer.writeCopyA(2, first: 0, data: data, parity: parity, streamLength: streamLength, endsStream: false) {}
        let rest = AlignedBuffer(count: capacity)
        let restParity = AlignedBuffer(count: parityLength)
        stream.withUnsafeBytes { _ = rest.copy(UnsafeRawBufferPointer(rebasing: $0[(2 * capacity)...]), to: 0) }
        try writer.writeCopyA(
            1, first: 2, data: rest, parity: restParity, streamLength: streamLength - 2 * capacity,
            endsStream: true
        ) {}
        try writer.writeHeads(layout, ciphertextLength: UInt64(streamLength), chunkCount: 1)

        let reading = try PositionedFile.openForReading(scratch.path)
        let recovery = try StripeRecovery(
            file: reading, fileLength: layout.fileLength, descriptor: Self.descriptor,
            layout: layout)
        let copyA = (0..<3).map { recovery.recover(UInt64($0)) }
        #expect(copyA.allSatisfy { $0.repair.isClean && $0.checksumVerified })
        #expect(copyA.map(\.isLast) == [false, false, true])
        #expect(copyA.flatMap { Array($0.data) } == stream)
        #expect((0..<3).allSatisfy { !recovery.isIntact(copy: 1, stripe: UInt64($0)) })

        try writer.writeCopyB(copyA, layout: layout)
        try writer.drain()
        #expect((0..<3).allSatisfy { recovery.isIntact(copy: 1, stripe: UInt64($0)) })
        let located = try ContainerLocator.locate(reading)
        #expect(located.layout == layout && located.heads == [.intact, .intact, .intact])

        // A stripe that did not read back clean is never duplicated.
        var damaged = copyA[1]
        damaged.repair.shardsRebuilt = [0]
        let refusal = #expect(throws: ContainerError.self) { try writer.writeCopyB([damaged], layout: layout) }
        guard case .damagedSourceRecord(let stripe, _)? = refusal else {
            Issue.record("copy B was written from a damaged record: \(String(describing: refusal))")
            return
        }
        #expect(stripe == 1)
    }

    /// The locator's refusals are Integrity's own errors, keeping their cause, and read
    /// as they did when it threw `BackupError`.
    @Test func locatorErrorsAreContainerErrors() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        Fixture.store([UInt8](repeating: 0, count: 100), at: scratch.path)
        let file = try PositionedFile.openForReading(scratch.path)
        let error = #expect(throws: ContainerError.self) { try ContainerLocator.locate(file) }
        guard case .notABackup(let why)? = error else {
            Issue.record("not refused as not a backup: \(String(describing: error))")
            return
        }
        #expect(why == "\(scratch.path) is 100 bytes, too short for a backup head")
        #expect(BackupError(error!).description == "not a DBS backup: \(why)")
    }
}
