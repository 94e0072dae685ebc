import DBSSystem
import Dispatch

/// Runs `body(i)` for i in 0..<count on `threads` workers, each taking a contiguous range.
/// The bodies touch disjoint items only.
func parallel(_ count: Int, _ threads: Int, _ body: (Int) -> Void) {
    let workers = max(1, min(threads, count))
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in (count * worker / workers)..<(count * (worker + 1) / workers) { work(i) }
        }
    }
}

/// `parallel` for a throwing body: the first error is rethrown after all workers end.
func parallelThrowing(_ count: Int, _ threads: Int, _ body: (Int) throws -> Void) throws {
    let failure = FirstError()
    parallel(count, threads) { i in
        do { try body(i) } catch { failure.set(error) }
    }
    if let error = failure.error { throw error }
}

/// The first error any worker met.
final class FirstError: @unchecked Sendable {
    private let lock = PthreadLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.locked { stored } }
    func set(_ error: any Error) { lock.locked { if stored == nil { stored = error } } }
}

/// A pthread mutex (the bench does without Foundation's NSLock).
final class PthreadLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
