import DBSReedSolomon
import DBSSystem
import Dispatch
internal import Synchronization

/// Writes to a file on one background thread, in submission order, while the caller
/// computes the next batch: the kernel's copy into the page cache (the largest single
/// cost of writing a backup here) overlaps sealing and Reed-Solomon instead of
/// following them.
///
/// At most `depth` submissions are queued; `submit` blocks beyond that, so memory stays
/// bounded by the batches in flight. The first failure is kept and thrown by the next
/// `submit` or `drain`; later writes are skipped.
package final class BackgroundWriter: Sendable {
    /// A buffer and where it goes.
    package struct Write: Sendable {
        package enum Bytes: Sendable {
            case array(ArraySlice<UInt8>)
            /// A range of a pipeline buffer, written straight from it (no copy).
            case buffer(AlignedBuffer, Range<Int>)
        }
        package var bytes: Bytes
        package var offset: UInt64

        package init(bytes: ArraySlice<UInt8>, offset: UInt64) {
            self.bytes = .array(bytes)
            self.offset = offset
        }

        package init(buffer: AlignedBuffer, range: Range<Int>, offset: UInt64) {
            bytes = .buffer(buffer, range)
            self.offset = offset
        }

        /// The offset just past the bytes.
        package var end: UInt64 {
            switch bytes {
            case .array(let bytes): offset + UInt64(bytes.count)
            case .buffer(_, let range): offset + UInt64(range.count)
            }
        }

        package func perform(on file: PositionedFile) throws(IOError) {
            switch bytes {
            case .array(let bytes):
                try file.write(bytes, at: offset)
            case .buffer(let buffer, let range):
                try buffer.withUnsafeBytes { (whole) throws(IOError) in
                    let range = range.clamped(to: 0..<whole.count)
                    try file.write(UnsafeRawBufferPointer(rebasing: whole[range]), at: offset)
                }
            }
        }
    }

    private let file: PositionedFile
    private let queue = DispatchQueue(label: "dbs.background-writer")
    private let slots: DispatchSemaphore
    private let depth: Int
    private let failure = Mutex<IOError?>(nil)

    package init(file: PositionedFile, depth: Int = 2) {
        self.file = file
        self.depth = max(1, depth)
        slots = DispatchSemaphore(value: self.depth)
    }

    /// Queues `writes` (waiting while `depth` submissions are pending). `completion`
    /// runs on the writer's thread once they are done, written or skipped (a pool
    /// takes its buffers back there).
    package func submit(_ writes: [Write], completion: (@Sendable () -> Void)? = nil) throws(IOError) {
        try rethrowFailure()
        slots.wait()
        queue.async { [self] in
            defer {
                completion?()
                slots.signal()
            }
            guard failure.withLock({ $0 == nil }) else { return }
            do throws(IOError) {
                for write in writes { try write.perform(on: file) }
                // The next submission is being computed: let the device take these
                // bytes meanwhile rather than all at the final fsync.
                if let start = writes.map(\.offset).min(), let end = writes.map(\.end).max() {
                    file.startWriteback(offset: start, length: end - start)
                }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
    }

    /// Waits until everything submitted is written; throws the first failure.
    package func drain() throws(IOError) {
        queue.sync {}
        try rethrowFailure()
    }

    private func rethrowFailure() throws(IOError) {
        if let error = failure.withLock({ $0 }) { throw error }
    }

}
