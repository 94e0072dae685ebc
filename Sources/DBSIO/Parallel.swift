import Dispatch
internal import Synchronization

/// The pipeline's one way to spread work over threads: `DispatchQueue.concurrentPerform`
/// with one iteration per worker, each worker taking the next item not yet taken, so a
/// worker can keep per-thread state (a zstd context) across its items, the number of
/// threads is exactly the `threads` the user asked for, and items of unequal cost (a
/// chunk of text takes ten times as long to compress as a random one) do not leave a
/// worker idle while another still has a queue of them.
package enum Parallel {
    /// `body(i)` for every i in `0..<count`, over at most `threads` threads; results in
    /// index order. `makeState` runs once per worker.
    package static func map<State, Result>(
        count: Int, threads: Int,
        makeState: @Sendable () -> State,
        _ body: @Sendable (inout State, Int) -> Result
    ) -> [Result] {
        guard count > 0 else { return [] }
        let width = max(1, min(threads, count))
        let results = ResultSlots<Result>(count: count)
        if width == 1 {
            var state = makeState()
            for i in 0..<count { results.store(body(&state, i), at: i) }
        } else {
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: width) { _ in
                var state = makeState()
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < count else { break }
                    results.store(body(&state, i), at: i)
                }
            }
        }
        return results.take()
    }

    /// Items of one parallel round for `threads` workers (the chunks of a sealing
    /// batch, the stripes of a restore round): 4 per thread up to 32 items, so that
    /// items of unequal cost balance and barriers are few; 2 per thread beyond, where
    /// the round has items enough and memory grows with it.
    package static func roundItems(threads: Int) -> Int { max(4, 2 * threads, min(4 * threads, 32)) }

    /// `body(i)` for every i in `0..<count`, without per-worker state.
    package static func map<Result>(count: Int, threads: Int, _ body: @Sendable (Int) -> Result) -> [Result] {
        map(count: count, threads: threads, makeState: { () }, { _, i in body(i) })
    }
}

/// Slots written by distinct workers at distinct indices, then read once by the caller
/// after every worker has finished (`concurrentPerform` returns only then). That
/// discipline, not a lock, is what makes the `@unchecked Sendable` sound.
private final class ResultSlots<T>: @unchecked Sendable {
    // Raw storage, not an array property: concurrent writes to distinct elements of a
    // class's array property would trip Swift's exclusivity checking.
    private let slots: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func store(_ value: T, at index: Int) { slots[index] = value }

    func take() -> [T] { slots.map { $0! } }
}
