import ArgumentParser
import DBSKit
import DBSSystem

/// Where the passphrase comes from, strongest last: `--passphrase` (visible to other
/// users in the process list, so the weakest), then `$DBS_PASSPHRASE`, then
/// `--passphrase-file`, then `--passphrase-stdin`, else a prompt without echo when
/// standard input is a terminal. Without any of these, `dbs` exits 2 at once rather
/// than waiting for input that cannot come.
struct PassphraseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The passphrase. Weakest source: other users can see it in the process list.",
            valueName: "passphrase"))
    var passphrase: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase from this file: all of it, one trailing newline stripped, at most 64 KiB (a FIFO or /dev/fd/N is read to its end).",
            valueName: "file"))
    var passphraseFile: String?

    @Flag(name: .long, help: "Read the passphrase from the first line of standard input.")
    var passphraseStdin = false

    static let environmentVariable = "DBS_PASSPHRASE"

    /// Whether any non-interactive source is present.
    var hasExplicitSource: Bool {
        passphrase != nil || getenv(Self.environmentVariable) != nil || passphraseFile != nil || passphraseStdin
    }

    /// The passphrase from the first source that has one.
    ///
    /// - Parameter confirm: ask twice at a prompt (for a new backup, where a typo
    ///   would lock the data away).
    func resolve(confirm: Bool) throws -> SecureBytes {
        var bytes: [UInt8]
        if let passphrase {
            bytes = Array(passphrase.utf8)
        } else if let value = getenv(Self.environmentVariable) {
            bytes = Array(String(cString: value).utf8)
        } else if let passphraseFile {
            bytes = try Self.wholeFile(passphraseFile)
        } else if passphraseStdin {
            bytes = Self.firstLine(ofDescriptor: STDIN_FILENO)
        } else {
            bytes = try Self.prompt(confirm: confirm)
        }
        defer { Self.wipe(&bytes) }
        guard !bytes.isEmpty else { throw CLIFailure.usage("the passphrase is empty") }
        return SecureBytes(bytes)
    }

    /// The largest passphrase file: a passphrase is not a document, and a file this
    /// size given by mistake (a backup, a log) should be refused, not hashed.
    static let maxFileBytes = 64 << 10

    /// The whole file (a FIFO or /dev/fd/N of a process substitution read to its end),
    /// less one trailing newline ("\n" or "\r\n"); a directory or more than 64 KiB is
    /// refused by name.
    private static func wholeFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == EISDIR ? "it is a directory" : String(cString: strerror(errno))
            throw CLIFailure(.io, "cannot read the passphrase file \(path): \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw CLIFailure(.io, "cannot read the passphrase file \(path): it is a directory")
        }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 4096)
        defer { wipe(&block) }
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                wipe(&bytes)
                throw CLIFailure(.io, "cannot read the passphrase file \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: block[0..<n])
            if bytes.count > maxFileBytes + 2 {
                wipe(&bytes)
                throw CLIFailure(.usage, "the passphrase file \(path) is larger than 64 KiB; it cannot be a passphrase")
            }
        }
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard bytes.count <= maxFileBytes else {
            wipe(&bytes)
            throw CLIFailure(.usage, "the passphrase file \(path) is larger than 64 KiB; it cannot be a passphrase")
        }
        return bytes
    }

    /// Reads up to the first newline, byte by byte so that nothing after it is consumed
    /// (standard input may carry more). Strips a trailing "\r".
    private static func firstLine(ofDescriptor fd: Int32) -> [UInt8] {
        var line = [UInt8]()
        var byte: UInt8 = 0
        while line.count < 4096 {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    private static func prompt(confirm: Bool) throws -> [UInt8] {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIFailure.usage(
                "no passphrase: standard input is not a terminal; use $\(environmentVariable), "
                    + "--passphrase-file or --passphrase-stdin")
        }
        var first = try readWithoutEcho(prompt: "Passphrase: ")
        guard confirm else { return first }
        var second = try readWithoutEcho(prompt: "Passphrase (again): ")
        defer { wipe(&second) }
        guard first == second else {
            wipe(&first)
            throw CLIFailure.usage("the passphrases do not match")
        }
        return first
    }

    /// Reads a line from the terminal with echo off, restoring the terminal after.
    private static func readWithoutEcho(prompt: String) throws -> [UInt8] {
        FileHandleStream.standardError.write(prompt)
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTerminal { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            FileHandleStream.standardError.write("\n")
        }
        return firstLine(ofDescriptor: STDIN_FILENO)
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        for i in bytes.indices { bytes[i] = 0 }
    }
}
