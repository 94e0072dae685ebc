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
final class BackgroundWriter: Sendable {
    /// A buffer and where it goes.
    struct Write: Sendable {
        var bytes: ArraySlice<UInt8>
        var offset: UInt64
    }

    private let file: PositionedFile
    private let queue = DispatchQueue(label: "dbs.background-writer")
    private let slots: DispatchSemaphore
    private let depth: Int
    private let failure = Mutex<IOError?>(nil)

    init(file: PositionedFile, depth: Int = 2) {
        self.file = file
        self.depth = max(1, depth)
        slots = DispatchSemaphore(value: self.depth)
    }

    /// Queues `writes` (waiting while `depth` submissions are pending).
    func submit(_ writes: [Write]) throws(IOError) {
        try rethrowFailure()
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure.withLock({ $0 == nil }) else { return }
            do throws(IOError) {
                for write in writes { try file.write(write.bytes, at: write.offset) }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
    }

    /// Waits until everything submitted is written; throws the first failure.
    func drain() throws(IOError) {
        queue.sync {}
        try rethrowFailure()
    }

    private func rethrowFailure() throws(IOError) {
        if let error = failure.withLock({ $0 }) { throw error }
    }

}
