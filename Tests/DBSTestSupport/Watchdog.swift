import Foundation
import Synchronization
import Testing

/// Kills a child process under test that has not exited after `limit` seconds, so that
/// a child that never ends (waiting on a FIFO no one writes, a deadlock) fails its own
/// test with a message instead of stalling the whole run until CI's time is up. No
/// child comes near the limit: the slowest CLI test takes seconds on x86-64 (under the
/// address sanitizer too), and under 5 minutes, all its runs together, under the arm64
/// emulation of `scripts/test-arm64.sh`.
public final class Watchdog: Sendable {
    public static let limit = 600

    private let fired = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)

    /// Arms the watchdog for the child `pid`, just started.
    public init(pid: Int32) {
        Thread.detachNewThread { [self] in
            guard exited.wait(timeout: .now() + .seconds(Self.limit)) == .timedOut else { return }
            fired.store(true, ordering: .sequentiallyConsistent)
            kill(pid, SIGKILL)
        }
    }

    /// Waits for `process` (the child this watchdog was made for) to exit, and records
    /// an issue naming `what` if the watchdog had to kill it.
    public func wait(for process: Process, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        process.waitUntilExit()
        exited.signal()
        if fired.load(ordering: .sequentiallyConsistent) {
            Issue.record("\(what) did not exit within \(Self.limit) s: killed", sourceLocation: sourceLocation)
        }
    }
}
