import DBSTestSupport
import Foundation
import Testing

/// Runs the built `dbs` binary as a user would: real processes, real files.
///
/// The binary is `$DBS_BINARY` when set, else the `dbs` beside the test bundle in the
/// build products directory (`swift build --build-tests` builds both).
enum DBSTool {
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["DBS_BINARY"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // The runner is .build/<config>/DBSPackageTests.xctest (a file on Linux).
        while !dir.path.isEmpty && dir.path != "/" {
            dir.deleteLastPathComponent()
            let candidate = dir.appendingPathComponent("dbs").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "dbs-binary-not-found"
    }()

    /// Small Argon2 parameters: the tests exercise the file format, not the KDF cost.
    static let fastKDF = ["--kdf-time", "1", "--kdf-memory", "8192", "--kdf-parallelism", "1"]

    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

        func json() throws -> [String: Any] {
            try #require(
                JSONSerialization.jsonObject(with: stdout) as? [String: Any],
                "stdout is not a JSON object: \(stdoutText) / \(stderr)")
        }
    }

    /// Runs `dbs` with `arguments`. `passphrase` goes through the environment
    /// (never argv); nil removes `DBS_PASSPHRASE`. `stdin` nil means /dev/null.
    /// `prefix` runs the binary under another command (setpriv, a shell with ulimit).
    @discardableResult
    static func run(
        _ arguments: [String], passphrase: String? = "correct horse",
        stdin: Data? = nil, stdinFile: String? = nil, prefix: [String] = [],
        environment: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        let command = prefix + [binary] + arguments
        process.executableURL = URL(fileURLWithPath: prefix.isEmpty ? binary : "/usr/bin/env")
        process.arguments = prefix.isEmpty ? arguments : command
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DBS_PASSPHRASE")
        if let passphrase { env["DBS_PASSPHRASE"] = passphrase }
        for (k, v) in environment { env[k] = v }
        process.environment = env

        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if let stdinFile {
            process.standardInput = FileHandle(forReadingAtPath: stdinFile)
        } else if stdin != nil {
            process.standardInput = input
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        try process.run()
        let watchdog = Watchdog(pid: process.processIdentifier)
        if let stdin { ChildInput.feed(stdin, into: input) }
        // Drain stderr concurrently; read stdout here.
        nonisolated(unsafe) var errData = Data()
        let errDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            errDone.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        watchdog.wait(for: process, "dbs " + arguments.joined(separator: " "))
        return Result(
            status: process.terminationStatus, stdout: outData,
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A temporary directory removed after the test.
final class Scratch {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "dbs-cli-XXXXXX").utf8CString)
        let made = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws -> String {
        let p = file(relative)
        try FileManager.default.createDirectory(
            atPath: (p as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        chmod(p, mode)
        return p
    }
}

/// Compares two trees: same names, kinds, bytes, permission bits, mtimes (ns), link targets.
func expectSameTree(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let fm = FileManager.default
    let left = try fm.subpathsOfDirectory(atPath: a).sorted()
    let right = try fm.subpathsOfDirectory(atPath: b).sorted()
    #expect(left == right, "entry names differ", sourceLocation: sourceLocation)
    for relative in left where right.contains(relative) {
        var sa = stat()
        var sb = stat()
        lstat(a + "/" + relative, &sa)
        lstat(b + "/" + relative, &sb)
        #expect(sa.st_mode == sb.st_mode, "mode of \(relative)", sourceLocation: sourceLocation)
        let kind = sa.st_mode & S_IFMT
        if kind != S_IFDIR {
            #expect(
                sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec,
                "mtime of \(relative)", sourceLocation: sourceLocation)
        }
        if kind == S_IFREG {
            #expect(sa.st_size == sb.st_size, "size of \(relative)", sourceLocation: sourceLocation)
            if sa.st_size < 64 << 20 {
                #expect(
                    fm.contents(atPath: a + "/" + relative) == fm.contents(atPath: b + "/" + relative),
                    "content of \(relative)", sourceLocation: sourceLocation)
            }
        } else if kind == S_IFLNK {
            #expect(
                try fm.destinationOfSymbolicLink(atPath: a + "/" + relative)
                    == fm.destinationOfSymbolicLink(atPath: b + "/" + relative),
                "link target of \(relative)", sourceLocation: sourceLocation)
        }
    }
}

/// Sets a file's mtime with nanoseconds, without following links.
func setModificationTime(_ path: String, seconds: Int, nanoseconds: Int) {
    var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
    utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}

/// The repository root (for scripts/damage.py).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Damages a backup with scripts/damage.py, using `dbs inspect --json` for the copies.
func damage(_ backup: String, _ arguments: [String]) throws {
    let inspect = try DBSTool.run(["inspect", "--json", backup], passphrase: nil)
    #expect(inspect.status == 0, "inspect failed: \(inspect.stderr)")
    let json = backup + ".inspect.json"
    try inspect.stdout.write(to: URL(fileURLWithPath: json))
    defer { try? FileManager.default.removeItem(atPath: json) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", repositoryRoot + "/scripts/damage.py", backup, "--copies-json", json] + arguments
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    Watchdog(pid: process.processIdentifier).wait(for: process, "damage.py")
    #expect(process.terminationStatus == 0, "damage.py failed")
}
