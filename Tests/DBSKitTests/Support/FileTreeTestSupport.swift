import DBSIO
import DBSSystem
import Foundation
import Testing

@testable import DBSKit

/// A fresh directory under /tmp (or `base`), removed (with everything in it) on deinit.
final class TemporaryDirectory {
    let path: String

    init(under base: String = "/tmp") {
        var template = Array("\(base)/dbs-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    deinit {
        // Make every directory writable first: some tests restore read-only ones.
        _ = try? FileManager.default.subpathsOfDirectory(atPath: path).forEach { chmod(path + "/" + $0, 0o755) }
        try? FileManager.default.removeItem(atPath: path)
    }

    func sub(_ name: String) -> String { path + "/" + name }
}

enum TreeBuilder {
    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0, "open \(path): errno \(errno)")
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            try #require(n > 0)
            offset += n
        }
        try #require(fchmod(fd, mode) == 0)
    }

    static func mkdir(_ path: String, mode: mode_t = 0o755) throws {
        try #require(Glibc.mkdir(path, 0o700) == 0, "mkdir \(path): errno \(errno)")
        try #require(chmod(path, mode) == 0)
    }

    static func symlink(_ target: String, at path: String) throws {
        try #require(Glibc.symlink(target, path) == 0, "symlink \(path): errno \(errno)")
    }

    static func setTime(_ path: String, _ seconds: Int, _ nanoseconds: Int) throws {
        let time = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
        try #require(utimensat(AT_FDCWD, path, [time, time], AT_SYMLINK_NOFOLLOW) == 0, "utimensat \(path)")
    }
}

/// What a path holds, for comparing a restored tree with its source.
struct NodeDescription: Equatable, CustomStringConvertible {
    var type: UInt32
    var mode: UInt32
    var seconds: Int
    var nanoseconds: Int
    var size: Int64
    var linkTarget: String?

    init(_ path: String) throws {
        var status = stat()
        try #require(lstat(path, &status) == 0, "lstat \(path)")
        type = status.st_mode & 0o170000
        mode = status.st_mode & 0o7777
        seconds = status.st_mtim.tv_sec
        nanoseconds = status.st_mtim.tv_nsec
        // A directory's st_size is file-system bookkeeping, not content.
        size = type == 0o040000 ? 0 : Int64(status.st_size)
        if type == 0o120000 {
            linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: path)
        }
    }

    var description: String {
        "type 0o\(String(type, radix: 8)) mode 0o\(String(mode, radix: 8)) mtime \(seconds).\(nanoseconds) size \(size) link \(linkTarget ?? "-")"
    }
}

/// Every path below `root`, relative, sorted; FileManager does not follow symlinks here.
func relativePaths(_ root: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: root).sorted()
}

/// Whether two files hold the same bytes, read in blocks (large sparse files too).
func sameContent(_ a: String, _ b: String) throws -> Bool {
    let fa = open(a, O_RDONLY)
    let fb = open(b, O_RDONLY)
    defer {
        close(fa)
        close(fb)
    }
    try #require(fa >= 0 && fb >= 0)
    var ba = [UInt8](repeating: 0, count: 1 << 20)
    var bb = ba
    while true {
        let na = ba.withUnsafeMutableBytes { read(fa, $0.baseAddress!, $0.count) }
        let nb = bb.withUnsafeMutableBytes { read(fb, $0.baseAddress!, $0.count) }
        // Regular files on a local file system fill whole reads until their end.
        guard na == nb else { return false }
        if na <= 0 { return na == 0 }
        let equal = ba.withUnsafeBytes { pa in
            bb.withUnsafeBytes { pb in memcmp(pa.baseAddress!, pb.baseAddress!, na) == 0 }
        }
        if !equal { return false }
    }
}

/// Compares the trees at `source` and `restored`: the same paths, and for each the
/// same type, mode, nanosecond mtime, size, link target and bytes.
func expectSameTree(_ source: String, _ restored: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let paths = try relativePaths(source)
    #expect(try relativePaths(restored) == paths, sourceLocation: sourceLocation)
    for path in [""] + paths {
        let a = source + (path.isEmpty ? "" : "/" + path)
        let b = restored + (path.isEmpty ? "" : "/" + path)
        let expected = try NodeDescription(a)
        let actual = try NodeDescription(b)
        #expect(actual == expected, "\(path)", sourceLocation: sourceLocation)
        if expected.type == 0o100000 {
            #expect(try sameContent(a, b), "content of \(path)", sourceLocation: sourceLocation)
        }
    }
}

/// Reads `inputs` into an in-memory payload.
func payloadOf(_ inputs: [String], warnings: ((FileTreeWarning) -> Void)? = nil) throws -> [UInt8] {
    let sink = MemorySink()
    let writer = try PayloadWriter(sink: sink, metadata: [:])
    let options = FileTreeReader.Options(warning: warnings ?? { Issue.record("unexpected warning: \($0)") })
    try FileTreeReader(inputs: inputs, options: options).write(to: writer)
    _ = try writer.finish()
    return sink.bytes
}

/// Names of leftover temporary files anywhere below `root`.
func leftoverTemporaries(_ root: String) throws -> [String] {
    try relativePaths(root).filter { ($0 as NSString).lastPathComponent.hasPrefix(".dbs-restore-") }
}
