/// Where a layer writes a stream of bytes: the payload writer writes its frames into
/// the container writer through this, a test into memory.
///
/// Class-bound because a sink is a stateful endpoint (a file, a pipeline) that
/// several writers share by reference.
package protocol ByteSink: AnyObject {
    /// Takes all of `bytes` or throws; never a short write.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    package func write(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Where a layer reads a stream of bytes from: the payload reader reads the
/// container reader's verified plaintext through this.
package protocol ByteSource: AnyObject {
    /// Reads up to `maxLength` bytes and appends them to `buffer`; returns how many
    /// were appended, 0 only at the end of the stream.
    func read(into buffer: inout [UInt8], maxLength: Int) throws -> Int
}

extension ByteSource {
    /// Reads exactly `count` bytes, or fewer only when the stream ends first.
    package func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            if try read(into: &out, maxLength: count - out.count) == 0 { break }
        }
        return out
    }
}

/// A sink that keeps everything in memory: small payloads and tests.
package final class MemorySink: ByteSink {
    package private(set) var bytes: [UInt8] = []
    package init() {}
    package func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
}

/// A source over bytes in memory: small payloads and tests.
package final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package func read(into buffer: inout [UInt8], maxLength: Int) throws -> Int {
        let n = min(maxLength, bytes.count - position)
        guard n > 0 else { return 0 }
        buffer.append(contentsOf: bytes[position..<(position + n)])
        position += n
        return n
    }
}
