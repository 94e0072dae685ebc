import DBSReedSolomon
internal import Synchronization

/// A few ``AlignedBuffer``s kept for reuse: a batch takes one, the background writer
/// gives it back once the batch is on disk. The number alive is bounded by the
/// batches in flight (the background writer's depth plus the one being computed),
/// and each is allocated and faulted in once for the whole backup.
package final class BufferPool: Sendable {
    private let spare = Mutex<[AlignedBuffer]>([])

    package init() {}

    /// A buffer of at least `count` bytes: a spare one when one is large enough
    /// (contents are whatever it last held), else a new zeroed one (and one spare too
    /// small is dropped, so the pool does not grow with sizes nobody asks for).
    package func take(count: Int) -> AlignedBuffer {
        let reused = spare.withLock { buffers -> AlignedBuffer? in
            guard let index = buffers.firstIndex(where: { $0.count >= count }) else {
                _ = buffers.popLast()
                return nil
            }
            return buffers.remove(at: index)
        }
        return reused ?? AlignedBuffer(count: count)
    }

    /// Returns `buffer` for reuse.
    package func give(_ buffer: AlignedBuffer) {
        spare.withLock { $0.append(buffer) }
    }

    /// Drops every spare buffer.
    package func removeAll() {
        spare.withLock { $0.removeAll() }
    }
}
