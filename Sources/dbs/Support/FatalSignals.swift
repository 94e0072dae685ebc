import DBSSystem

/// A process that received a fatal signal never reports success.
///
/// The Swift runtime's backtracer handles SIGSEGV, SIGABRT and the other crash signals:
/// it prints a crash report, and for a signal sent from outside (`kill -SEGV`) it then
/// let `dbs` exit 0 (issue 12). These handlers run first: a signal sent by another
/// process (or by this one through kill/sigqueue) goes straight to the default action,
/// so the process dies by it and its parent sees the signal; a real fault is passed to
/// the handler that was there before (the backtracer's report), and if that returns the
/// default action follows all the same.
enum FatalSignals {
    static let handled: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS]

    /// The actions installed before ours, by signal number: written once in `install`
    /// before any handler can run, only read afterwards (from signal handlers).
    nonisolated(unsafe) fileprivate static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

    static func install() {
        // A mask inherited from the parent (a runner that blocks signals in the thread
        // that spawns) would keep a fatal signal pending while the process goes on to
        // exit 0: unblock them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in handled { sigaddset(&unblock, signal) }
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        for signal in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = fatalSignalHandler
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous[Int(signal)] = old
        }
    }
}

/// Async-signal-safe: only sigaction, getpid, raise and the previous handler.
private func fatalSignalHandler(
    _ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?,
    _ context: UnsafeMutableRawPointer?
) {
    let sentByKill = info.map { $0.pointee.si_code == SI_USER || $0.pointee.si_code == SI_QUEUE } ?? true
    if !sentByKill {
        let old = FatalSignals.previous[Int(signal)]
        if old.sa_flags & SA_SIGINFO != 0, let handler = old.__sigaction_handler.sa_sigaction {
            handler(signal, info, context)
        } else if let handler = old.__sigaction_handler.sa_handler,
            unsafeBitCast(handler, to: Int.self) > 1
        {  // neither SIG_DFL (0) nor SIG_IGN (1)
            handler(signal)
        }
    }
    var action = sigaction()
    action.__sigaction_handler.sa_handler = SIG_DFL
    sigemptyset(&action.sa_mask)
    sigaction(signal, &action, nil)
    // Unblock it (it is blocked while its handler runs) so that raise takes effect now.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, signal)
    sigprocmask(SIG_UNBLOCK, &set, nil)
    raise(signal)
}
