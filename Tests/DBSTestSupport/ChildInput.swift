import Foundation

/// Standard input for a child process under test, written so that a child which exits
/// without reading it (a refused option, a name no restore could extract) cannot kill
/// the test runner.
///
/// Writing to a pipe whose reader has gone raises SIGPIPE, and SIGPIPE's default action
/// ends the whole runner, every suite with it, in a race the test did not mean to run.
/// `dbs` itself ignores SIGPIPE for the same reason (`DBSCommand`). Here the runner
/// ignores it too, and `write(contentsOf:)` reports the EPIPE as an error, which is
/// dropped: what the child made of its input is for the test to check.
public enum ChildInput {
    /// Writes `data` to `handle` and closes it (unless `thenClose` is false: a child
    /// that must go on waiting for more), on the calling thread.
    public static func write(_ data: Data, to handle: FileHandle, thenClose: Bool = true) {
        ignoreBrokenPipes
        try? handle.write(contentsOf: data)
        if thenClose { try? handle.close() }
    }

    /// Writes `data` into `pipe` and closes it, on a thread of its own, so that a child
    /// filling its output pipe while the input is unread cannot deadlock with the caller.
    public static func feed(_ data: Data, into pipe: Pipe) {
        let handle = pipe.fileHandleForWriting
        ignoreBrokenPipes
        Thread.detachNewThread { write(data, to: handle) }
    }

    /// Set once for the whole runner: an EPIPE from `write(2)` instead of the signal.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}
