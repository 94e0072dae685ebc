/// The self-describing header in front of every stripe record (docs/FORMAT.md,
/// "Stripe header"): enough to place, check and order the stripe with nothing else,
/// plus a replica of the backup descriptor.
package struct StripeHeader: Equatable {
    static let magic: [UInt8] = Array("DBS-STRP".utf8)
    /// Offset of the shard checksum table in the body.
    static let checksumTableOffset = 24 + BackupDescriptor.serializedSize

    var copy: Int
    var isLast: Bool
    var stripeIndex: UInt64
    /// Ciphertext bytes in this stripe (the rest of its k * S data bytes is zero padding).
    var dataLength: Int
    var descriptor: BackupDescriptor
    /// n * 16 bytes: the checksum of every shard, data then parity.
    var checksums: [UInt8]

    /// The protected block's body.
    package var body: [UInt8] {
        var w = LittleEndianWriter(capacity: ProtectedBlock.bodySize)
        w.append(Self.magic)
        w.append(FormatVersion.current)
        w.append(UInt8(copy))
        w.append(UInt8(isLast ? 1 : 0))
        w.append(stripeIndex)
        w.append(UInt32(dataLength))
        w.append(descriptor.serialized)
        precondition(w.bytes.count == Self.checksumTableOffset)
        w.append(checksums)
        return w.bytes
    }

    /// The on-disk protected block.
    var encoded: [UInt8] { ProtectedBlock.encode(body: body) }

    /// Parses a verified body. Throws when it is not a stripe header of a format this
    /// reader understands, or its fields are out of bounds.
    package init(body: [UInt8]) throws(FormatError) {
        var r = LittleEndianReader(body)
        do {
            guard try r.read(count: 8) == Self.magic else { throw FormatError.invalidField("stripe header magic") }
            let version: UInt16 = try r.read()
            guard version == FormatVersion.current else { throw FormatError.unsupportedVersion(version) }
            copy = Int(try r.read(UInt8.self))
            let flags: UInt8 = try r.read()
            isLast = flags & 1 != 0
            stripeIndex = try r.read()
            dataLength = Int(try r.read(UInt32.self))
        } catch let error as FormatError {
            throw error
        } catch {
            throw .truncated("stripe header")
        }
        descriptor = try BackupDescriptor(parsing: &r)
        let tableLength = descriptor.dataShards * 16 + descriptor.parityShards * 16
        guard Self.checksumTableOffset + tableLength <= body.count else { throw .truncated("checksum table") }
        checksums = Array(body[Self.checksumTableOffset..<(Self.checksumTableOffset + tableLength)])
        guard copy <= 1 else { throw .invalidField("copy \(copy)") }
        guard dataLength <= descriptor.dataShards * descriptor.shardSize else {
            throw .invalidField("stripe data length \(dataLength)")
        }
    }

    init(
        copy: Int, isLast: Bool, stripeIndex: UInt64, dataLength: Int, descriptor: BackupDescriptor,
        checksums: [UInt8]
    ) {
        self.copy = copy
        self.isLast = isLast
        self.stripeIndex = stripeIndex
        self.dataLength = dataLength
        self.descriptor = descriptor
        self.checksums = checksums
    }
}

/// The format version this code writes and reads.
package enum FormatVersion {
    package static let current: UInt16 = 1
}
