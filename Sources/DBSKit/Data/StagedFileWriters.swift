import DBSPayload
import DBSSystem
import Dispatch
internal import Synchronization

/// The writes of a restore's staged files, on worker threads.
///
/// The reading thread parses the payload, checks each entry's SHA-256 and hands each
/// piece of verified content here as it comes; the writes and each file's closing
/// metadata calls (truncate, chown, chmod, xattrs, times, and for a named temporary its
/// close) run on `lanes` serial queues, one file always on the same lane (so its
/// metadata follows its last write), files spread round-robin. The reader thus never
/// waits on the kernel's page-cache copy or on inode work, and two files are written
/// at once. At most `slotCount` pieces wait (each at most the reader's piece size), so
/// memory stays bounded; the reader blocks beyond that.
///
/// All or nothing is unchanged: a file only takes its name in the commit, after
/// `drain()` has waited for every write and reported the first failure. A failure
/// stays with the plan index of its file (`failedEntries`), so a salvage leaves that
/// file out and lists it as lost; later pieces of a failed file are not written.
final class StagedFileWriters: Sendable {
    /// What a file's lane does once its content is written.
    struct Closing: Sendable {
        /// The path as warnings carry it (bytes); `path` is how messages show it.
        var shownPath: PathBytes
        var path: String { shownPath.description }
        /// The file's size: set with ftruncate when the content ended with a skipped
        /// run of zeros (a sparse end).
        var size: UInt64
        var truncate: Bool
        /// As root: the owner to give it (`OwnerMapping.target`).
        var chown: (uid: UInt32, gid: UInt32)?
        /// The recorded owner the set-ID bits were set for (`OwnerMapping.intended`).
        var intended: (uid: UInt32, gid: UInt32)?
        var mode: UInt32
        var attributes: [ExtendedAttribute]
        var time: FileTimestamp
        /// A named temporary: fsync it first when `fsync` (no syncfs here), then close.
        var close: Bool
        var fsync: Bool
    }

    private struct State {
        var failure: DataError?
        var failed: Set<Int> = []
        var warnings: [FileTreeWarning] = []
    }

    private let queues: [DispatchQueue]
    private let slots: DispatchSemaphore
    private let pending = DispatchGroup()
    private let state = Mutex(State())

    /// `lanes` writer threads (at least 1); at most `slotCount` pieces in flight.
    init(lanes: Int, slotCount: Int = 16) {
        queues = (0..<max(1, lanes)).map { DispatchQueue(label: "dbs.restore.write.\($0)") }
        slots = DispatchSemaphore(value: max(1, slotCount))
    }

    var laneCount: Int { queues.count }

    /// Writes `bytes` at `offset` of the open file `descriptor` (staged entry `entry`),
    /// on `lane`. The descriptor must stay open until `drain()` returns.
    func write(_ bytes: [UInt8], to descriptor: Int32, at offset: UInt64, entry: Int, path: String, lane: Int) {
        slots.wait()
        pending.enter()
        queues[lane % queues.count].async { [self] in
            defer {
                slots.signal()
                pending.leave()
            }
            guard !hasFailed(entry) else { return }
            do throws(DataError) {
                try Self.writeAll(bytes, to: descriptor, at: offset, path: path)
            } catch {
                fail(entry, error)
            }
        }
    }

    /// The file's metadata calls after its last write, on the same lane.
    func close(_ descriptor: Int32, entry: Int, _ closing: Closing, lane: Int) {
        pending.enter()
        queues[lane % queues.count].async { [self] in
            defer { pending.leave() }
            var warnings: [FileTreeWarning] = []
            do throws(DataError) {
                if !hasFailed(entry) {
                    try Self.finish(
                        descriptor, closing,
                        warn: { warnings.append(FileTreeWarning(path: closing.shownPath, message: $0)) })
                }
            } catch {
                fail(entry, error)
            }
            if closing.close, Glibc.close(descriptor) != 0 {
                fail(entry, .io(path: closing.path, operation: "close", errno: errno))
            }
            if !warnings.isEmpty { state.withLock { $0.warnings += warnings } }
        }
    }

    /// Waits for every write and closing so far; throws the first failure (again on
    /// every later call).
    func drain() throws(DataError) {
        pending.wait()
        try check()
    }

    /// Waits for everything in flight, ignoring failures (before descriptors close on
    /// a failure path, and before a salvage's commit).
    func settle() { pending.wait() }

    /// The warnings gathered since the last call (after `settle` or `drain`).
    func takeWarnings() -> [FileTreeWarning] {
        state.withLock { state in
            defer { state.warnings = [] }
            return state.warnings
        }
    }

    /// Throws the first failure so far without waiting.
    func check() throws(DataError) {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// The plan indices of the files whose writes or closing failed.
    var failedEntries: Set<Int> { state.withLock { $0.failed } }

    private func hasFailed(_ entry: Int) -> Bool { state.withLock { $0.failed.contains(entry) } }

    private func fail(_ entry: Int, _ error: DataError) {
        state.withLock { state in
            state.failed.insert(entry)
            if state.failure == nil { state.failure = error }
        }
    }

    private static func writeAll(
        _ bytes: [UInt8], to descriptor: Int32, at offset: UInt64,
        path: String
    ) throws(DataError) {
        var done = 0
        while done < bytes.count {
            let written = try POSIX.check("write", path) {
                bytes.withUnsafeBytes {
                    pwrite(descriptor, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done))
                }
            }
            done += written
        }
    }

    /// truncate (a sparse end), chown as root, chmod (set-ID bits only with their
    /// owner: the file's status is read only when the mode has one), xattrs, times,
    /// then for a named temporary the fsync that stands in for a missing syncfs.
    private static func finish(
        _ descriptor: Int32, _ closing: Closing,
        warn: (String) -> Void
    ) throws(DataError) {
        let path = closing.path
        if closing.truncate {
            try POSIX.check("write", path) { ftruncate(descriptor, off_t(closing.size)) }
        }
        try RestoredMode.apply(
            closing.mode, chown: closing.chown, intended: closing.intended, to: descriptor, path: path)
        if !closing.attributes.isEmpty {
            ExtendedAttributes.apply(closing.attributes, descriptor: descriptor, path: nil, shownAs: path, warn: warn)
        }
        let times = POSIX.timespecs(closing.time)
        try POSIX.check("set the time of", path) { futimens(descriptor, times) }
        if closing.fsync {
            try POSIX.check("sync", path) { Glibc.fsync(descriptor) }
        }
    }
}
