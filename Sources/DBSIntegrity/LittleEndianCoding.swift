/// Appends the format's fields: every integer little-endian, fixed width.
struct LittleEndianWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Zero bytes up to `length` in total (a no-op when already that long).
    mutating func pad(to length: Int) {
        if bytes.count < length { bytes.append(contentsOf: repeatElement(0, count: length - bytes.count)) }
    }
}

/// Reads fields back, bounds-checked: a short or hostile buffer is an error, never a trap.
struct LittleEndianReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    struct OutOfBounds: Error {}

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(OutOfBounds) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= bytes.count else { throw OutOfBounds() }
        var value = T.zero
        for i in (0..<size).reversed() { value = value << 8 | T(truncatingIfNeeded: bytes[offset + i]) }
        offset += size
        return value
    }

    mutating func read(count: Int) throws(OutOfBounds) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw OutOfBounds() }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int) throws(OutOfBounds) {
        guard count >= 0, offset + count <= bytes.count else { throw OutOfBounds() }
        offset += count
    }
}
