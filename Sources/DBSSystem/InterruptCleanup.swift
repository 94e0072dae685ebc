import Dispatch

/// Removes the named temporary files and directories a run has registered when it
/// is stopped by SIGINT, SIGTERM or SIGHUP, then lets the signal end the process as
/// it would have (so a shell sees "killed by SIGINT").
///
/// `install()` blocks those signals in the calling thread, which every thread started
/// afterwards inherits, and waits for them on a thread of its own with `sigwait`: the
/// cleanup is ordinary code under a lock, not a signal handler, so it may take locks
/// and walk the registry safely. Work that must not be cut in half (a restore giving
/// its files their names) runs in `uninterruptible`, which the cleanup waits for.
/// Without `install()` (a library host that handles signals itself) registering costs
/// a lock and does nothing more. SIGKILL cannot be caught: what it leaves is what
/// `TemporaryName.removeStale` finds on the next run.
public enum InterruptCleanup {
    private struct Registry {
        var next = 0
        var files: [Int: PathBytes] = [:]
        var directories: [Int: PathBytes] = [:]
    }

    private static let lock = SerialLock()
    nonisolated(unsafe) private static var registry = Registry()
    nonisolated(unsafe) private static var installed = false

    /// Call first thing in `main`, before any other thread exists.
    public static func install(signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        guard !installed else { return }
        installed = true
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waited = set
        // One Dispatch worker waits in sigwait for the rest of the process's life (the
        // pool starts others as needed); Foundation's Thread would serve as well but
        // brings all of Foundation into libDBSC.
        DispatchQueue(label: "dbs.interrupt-cleanup").async {
            var set = waited
            var signal: Int32 = 0
            while sigwait(&set, &signal) != 0 {}
            lock.lock()
            for path in registry.files.values { path.withCString { _ = unlink($0) } }
            // Deepest first, so that a directory's registered children go before it.
            for path in registry.directories.values.sorted(by: { $0.bytes.count > $1.bytes.count }) {
                path.withCString { _ = rmdir($0) }
            }
            restoreDefaultAction(of: signal)
            var only = sigset_t()
            sigemptyset(&only)
            sigaddset(&only, signal)
            pthread_sigmask(SIG_UNBLOCK, &only, nil)
            kill(getpid(), signal)
            // Delivered to this thread as soon as it is unblocked; never returns.
            _exit(128 + signal)
        }
    }

    /// Registers a named temporary file (absolute or relative to the unchanging
    /// working directory) to remove on interruption; returns the token to unregister.
    package static func register(file path: String) -> Int { register(file: PathBytes(path)) }

    /// `register(file:)` for a path that need not be UTF-8.
    package static func register(file path: PathBytes) -> Int {
        lock.withLock {
            registry.next += 1
            registry.files[registry.next] = path
            return registry.next
        }
    }

    /// Registers a directory this run created, removed on interruption if empty.
    package static func register(directory path: String) -> Int { register(directory: PathBytes(path)) }

    /// `register(directory:)` for a path that need not be UTF-8.
    package static func register(directory path: PathBytes) -> Int {
        lock.withLock {
            registry.next += 1
            registry.directories[registry.next] = path
            return registry.next
        }
    }

    package static func unregister(_ token: Int) {
        lock.withLock {
            registry.files[token] = nil
            registry.directories[token] = nil
        }
    }

    /// Runs `body` with interruption held off: a signal that arrives meanwhile is
    /// acted on once `body` returns.
    package static func uninterruptible<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// signal(2) back to SIG_DFL, named apart from the local `signal` above.
private func restoreDefaultAction(of number: Int32) { _ = signal(number, SIG_DFL) }

/// A plain pthread mutex, recursive so that `uninterruptible` work may register.
final class SerialLock: @unchecked Sendable {
    /// Allocated, so that its address never moves.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
