import DBSKit
import DBSTestSupport
import Foundation
import Testing

/// Issue 12, items 6 and 7: option values checked by the parser under their own names
/// (exit 2), one thread limit, "already exists" an output error (exit 5) in the CLI's
/// words, and a fatal signal never reported as success.
@Suite("dbs option validation and fatal signals", .serialized)
struct CLIOptionAndSignalTests {
    @Test(arguments: [
        (["--threads", "300"], "--threads"),
        (["--threads", "257"], "--threads"),
        (["--checksum", "md5"], "--checksum"),
        (["--compression", "lz4"], "--compression"),
        (["--level", "99"], "--level"),
        (["--compression", "none", "--level", "3"], "--level"),  // a level the file could not record
        (["--shard-size", "8"], "--shard-size"),
        (["--parity", "0"], "--parity"),
        (["--parity", "255"], "--parity"),
        (["--kdf-time", "65"], "--kdf-time"),
        (["--kdf-parallelism", "0"], "--kdf-parallelism"),
        (["--kdf-memory", "7"], "--kdf-memory"),
    ])
    func invalidValuesExit2NamingTheOption(arguments: [String], option: String) throws {
        let scratch = try Scratch()
        try scratch.write("f", [1, 2, 3])
        let result = try DBSTool.run(["backup", scratch.file("out.dbs"), scratch.file("f")] + arguments)
        #expect(result.status == 2, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(option), "\(result.stderr)")
        #expect(!result.stderr.contains("timeCost") && !result.stderr.contains("memoryKiB"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.dbs")))
    }

    @Test func theThreadLimitIsTheEnginesOnEveryCommand() throws {
        let scratch = try Scratch()
        try scratch.write("f", [1, 2, 3])
        let limit = BackupOptions.threadLimits.upperBound
        let backup = scratch.file("f.dbs")
        #expect(
            try DBSTool.run(["backup", backup, scratch.file("f"), "--threads", "\(limit)"] + DBSTool.fastKDF)
                .status == 0)
        for command in [
            ["restore", backup, "--to", scratch.file("out")], ["validate", backup], ["list", backup],
            ["repair", backup, scratch.file("r.dbs")],
        ] {
            let result = try DBSTool.run(command + ["--threads", "\(limit + 1)"])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("--threads must be between 1 and \(limit)"), "\(result.stderr)")
        }
    }

    @Test func restoringOverAnExistingFileExits5NamingForce() throws {
        let scratch = try Scratch()
        try scratch.write("in/a", Array("new".utf8))
        let backup = scratch.file("b.dbs")
        #expect(try DBSTool.run(["backup", backup, scratch.file("in")] + DBSTool.fastKDF).status == 0)
        try scratch.write("out/in/a", Array("mine".utf8))
        let result = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("already exists") && result.stderr.contains("--force"), "\(result.stderr)")
        #expect(!result.stderr.contains("overwrite"), "an API parameter in a CLI message: \(result.stderr)")
        #expect(result.stderr.components(separatedBy: "already exists").count == 2, "said once: \(result.stderr)")
    }

    /// `dbs backup out.dbs -` waits on standard input; a SIGSEGV or SIGABRT sent to it
    /// must kill it (the Swift backtracer let it exit 0), and leave no file behind.
    @Test(arguments: [SIGSEGV, SIGABRT, SIGBUS])
    func aFatalSignalIsNeverSuccess(signal: Int32) throws {
        let scratch = try Scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DBSTool.binary)
        process.arguments = ["backup", scratch.file("out.dbs"), "-"] + DBSTool.fastKDF
        var env = ProcessInfo.processInfo.environment
        env["DBS_PASSPHRASE"] = "correct horse"
        process.environment = env
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let watchdog = Watchdog(pid: process.processIdentifier)
        ChildInput.write(Data(repeating: 7, count: 100_000), to: input.fileHandleForWriting, thenClose: false)
        // Let it get past start-up into the read loop.
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, signal)
        watchdog.wait(for: process, "dbs backup - after signal \(signal)")
        try? input.fileHandleForWriting.close()
        #expect(process.terminationReason == .uncaughtSignal, "exited with \(process.terminationStatus)")
        #expect(process.terminationStatus == signal)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.dbs")))
    }
}
