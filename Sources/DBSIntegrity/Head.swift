/// A head (docs/FORMAT.md, "Head"): the descriptor plus what is only known once the
/// backup is complete (stripe count, ciphertext length, chunk count) and the offsets
/// derived from them. Three heads: file start, start of copy B, file end; any
/// intact one gives the whole layout.
package struct Head: Equatable {
    static let magic: [UInt8] = Array("DBS-HEAD".utf8)

    var headIndex: Int
    var descriptor: BackupDescriptor
    var stripeCount: UInt64
    /// Length of the ciphertext stream (sealed chunks with their length prefixes).
    var ciphertextLength: UInt64
    var chunkCount: UInt64

    package var layout: ContainerLayout { descriptor.layout(stripeCount: stripeCount) }

    package var body: [UInt8] {
        let layout = layout
        var w = LittleEndianWriter(capacity: 256)
        w.append(Self.magic)
        w.append(FormatVersion.current)
        w.append(UInt8(headIndex))
        w.append(UInt8(0))
        w.append(descriptor.serialized)
        w.append(stripeCount)
        w.append(ciphertextLength)
        w.append(chunkCount)
        // Derived values, stored so that an independent reader need not re-derive
        // them, and checked on parsing.
        w.append(UInt32(layout.headerSize))
        w.append(UInt64(layout.recordSize))
        w.append(layout.copyOffset(0))
        w.append(layout.copies == 2 ? layout.copyOffset(1) : 0)
        w.append(layout.headRegionOffset(1))
        w.append(layout.headRegionOffset(2))
        w.append(layout.fileLength)
        return w.bytes
    }

    var encoded: [UInt8] { ProtectedBlock.encode(body: body) }

    init(
        headIndex: Int, descriptor: BackupDescriptor, stripeCount: UInt64, ciphertextLength: UInt64,
        chunkCount: UInt64
    ) {
        self.headIndex = headIndex
        self.descriptor = descriptor
        self.stripeCount = stripeCount
        self.ciphertextLength = ciphertextLength
        self.chunkCount = chunkCount
    }

    package init(body: [UInt8]) throws(FormatError) {
        var r = LittleEndianReader(body)
        let stored: [UInt64]
        do {
            guard try r.read(count: 8) == Self.magic else { throw FormatError.invalidField("head magic") }
            let version: UInt16 = try r.read()
            guard version == FormatVersion.current else { throw FormatError.unsupportedVersion(version) }
            headIndex = Int(try r.read(UInt8.self))
            try r.skip(1)
            descriptor = try BackupDescriptor(parsing: &r)
            stripeCount = try r.read()
            ciphertextLength = try r.read()
            chunkCount = try r.read()
            stored = [
                UInt64(try r.read(UInt32.self)), try r.read(), try r.read(), try r.read(), try r.read(),
                try r.read(), try r.read(),
            ]
        } catch let error as FormatError {
            throw error
        } catch {
            throw .truncated("head")
        }
        let layout = layout
        // Bound the stripe count by what a 2^62-byte file could hold, so offsets never overflow.
        guard stripeCount <= (UInt64(1) << 62) / UInt64(layout.recordSize) else {
            throw .invalidField("stripe count \(stripeCount)")
        }
        guard ciphertextLength <= stripeCount * UInt64(layout.stripeDataCapacity) else {
            throw .invalidField("ciphertext length \(ciphertextLength)")
        }
        let expected: [UInt64] = [
            UInt64(layout.headerSize), UInt64(layout.recordSize), layout.copyOffset(0),
            layout.copies == 2 ? layout.copyOffset(1) : 0, layout.headRegionOffset(1),
            layout.headRegionOffset(2), layout.fileLength,
        ]
        guard stored == expected else { throw .invalidField("head offsets \(stored), expected \(expected)") }
    }
}
