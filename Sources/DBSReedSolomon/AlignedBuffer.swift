import DBSSystem

/// A fixed-size byte buffer whose first byte sits a chosen distance past a 4 KiB page
/// boundary, owned by this object (`posix_memalign`, freed in `deinit`), zero-filled
/// at creation and meant to be reused: the pipeline keeps a few of these for the
/// life of a backup instead of a fresh array per batch, whose pages the kernel would
/// fault in and zero again every time.
///
/// Why the offset: with 4096-byte shards every shard of a stripe starts at the same
/// distance from a page boundary, and ISA-L's `ec_encode_data` is sensitive to it.
/// Measured here (239 + 16 shards of 4 KiB, one thread, 8 stripes, GB/s of data,
/// four runs, `AlignedBufferTests.encodeSpeedByPageOffset`): 16 bytes past the
/// boundary 3.29 / 3.33 / 2.55 / 3.00, at 0 3.04 / 3.10 / 2.28 / 2.24, at 48 (where a
/// large Swift `[UInt8]` puts its first element) 2.95 / 3.12 / 1.68 / 1.87. 16 was the
/// fastest in every run (why 16 beats 0 was not investigated further: the k input
/// streams all sit at one page offset, so cache-set or prefetcher effects are likely).
///
/// Concurrency: `@unchecked Sendable` because the pipeline lends one buffer to several
/// workers at once, each writing only its own disjoint byte range, and hands it to
/// the background writer only after those workers have finished (`concurrentPerform`
/// returns only then); after that, until the write completes, it is only read.
package final class AlignedBuffer: @unchecked Sendable {
    package static let pageSize = 4096
    /// The distance past a page boundary that runs ISA-L fastest here.
    package static let defaultPageOffset = 16

    /// Bytes usable, `0..<count`.
    package let count: Int
    private let allocation: UnsafeMutableRawPointer
    private let start: UnsafeMutableRawPointer

    /// - Parameters:
    ///   - count: bytes (negative counts as 0).
    ///   - pageOffset: where the first byte sits past a page boundary, taken modulo
    ///     the page size.
    package init(count: Int, pageOffset: Int = AlignedBuffer.defaultPageOffset) {
        let count = max(0, count)
        let offset = ((pageOffset % Self.pageSize) + Self.pageSize) % Self.pageSize
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, Self.pageSize, max(1, offset + count)) == 0, let pointer else {
            fatalError("out of memory allocating \(count) bytes")
        }
        memset(pointer, 0, max(1, offset + count))
        self.count = count
        allocation = pointer
        start = pointer + offset
    }

    deinit { free(allocation) }

    /// How far past a page boundary byte 0 is.
    package var pageOffset: Int { Int(bitPattern: start) % Self.pageSize }

    package func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: start, count: count))
    }

    package func withUnsafeMutableBytes<R, E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: start, count: count))
    }

    /// A copy of `range` (clamped to the buffer).
    package subscript(range: Range<Int>) -> [UInt8] {
        let range = range.clamped(to: 0..<count)
        return [UInt8](UnsafeRawBufferPointer(start: start + range.lowerBound, count: range.count))
    }

    /// Copies `source` to `offset ..< offset + source.count`; false (nothing copied)
    /// when that does not fit. Overlapping source memory is allowed (memmove).
    @discardableResult
    package func copy(_ source: UnsafeRawBufferPointer, to offset: Int) -> Bool {
        guard offset >= 0, source.count <= count - offset else { return false }
        if let base = source.baseAddress { memmove(start + offset, base, source.count) }
        return true
    }

    /// Zeroes `range` (clamped to the buffer).
    package func zero(_ range: Range<Int>) {
        let range = range.clamped(to: 0..<count)
        if !range.isEmpty { memset(start + range.lowerBound, 0, range.count) }
    }
}
