/// The names of the named temporary files DBS leaves for a moment (where there is no
/// O_TMPFILE, or while an unnamed file takes a name it must replace), made so that a
/// later run can prove a leftover is a dead run's own and remove it.
///
/// A name is `<prefix><pid>-<start>-<boot>-<serial>`: the process id, its start time
/// in clock ticks since boot (`/proc/self/stat`, field 22), the first 8 hex digits of
/// the boot id, and a serial. A leftover is stale, and removed, only when its boot id
/// is this machine's current one (so not another host's, on a shared file system), it
/// is owned by this user, and its process is gone or its pid now belongs to a process
/// that started at another time. Anything else with the prefix is left alone.
package enum TemporaryName {
    /// This process's `<pid>-<start>-<boot>`.
    package static let processTag: String = {
        "\(getpid())-\(startTime(of: getpid()) ?? 0)-\(bootID)"
    }()

    /// Whether unnamed (O_TMPFILE) files may be used where the file system has them:
    /// yes unless `DBS_NAMED_TEMPORARIES=1` is set, which tests of the named fallback
    /// set (and a file system whose O_TMPFILE misbehaves could).
    package static let unnamedAllowed: Bool = {
        guard let value = getenv("DBS_NAMED_TEMPORARIES") else { return true }
        return String(cString: value) != "1"
    }()

    nonisolated(unsafe) private static var serial: UInt64 = 0
    private static let serialLock = SerialLock()

    /// A new name `<prefix><processTag>-<serial>`, unique within this process.
    package static func make(prefix: String) -> String {
        let next = serialLock.withLock { () -> UInt64 in
            serial += 1
            return serial
        }
        return prefix + processTag + "-" + String(next, radix: 16)
    }

    /// Removes, in the directory open as `directory`, every regular file or symlink
    /// named `<prefix><tag>-...` whose tag proves a dead run of this user on this
    /// boot. Returns the names removed. Errors are ignored: this is housekeeping.
    @discardableResult
    package static func removeStale(in directory: Int32, prefix: String) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        var removed: [String] = []
        while let entry = readdir(stream) {
            let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = String(cString: field.assumingMemoryBound(to: CChar.self))
            guard name.hasPrefix(prefix), isStale(tagOf: String(name.dropFirst(prefix.count))) else { continue }
            var status = stat()
            guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_uid == geteuid() else {
                continue
            }
            let type = status.st_mode & S_IFMT
            guard type == S_IFREG || type == S_IFLNK else { continue }
            if unlinkat(directory, name, 0) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Whether `rest` (`<pid>-<start>-<boot>-<serial>`) names a process of this boot
    /// that no longer runs.
    static func isStale(tagOf rest: String) -> Bool {
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]),
            parts[2] == bootID, !bootID.isEmpty, UInt64(parts[3], radix: 16) != nil
        else { return false }
        if pid == getpid() { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let running = startTime(of: pid) else { return false }
        return running != start
    }

    /// Field 22 of /proc/<pid>/stat: the start time in clock ticks after boot.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: field 3 (state) is fields[0], so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    static let bootID: String = {
        guard let text = readSmallFile("/proc/sys/kernel/random/boot_id") else { return "" }
        return String(text.filter(\.isHexDigit).prefix(8))
    }()

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let file = FileDescriptor(fd)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(file.raw, $0.baseAddress!, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
