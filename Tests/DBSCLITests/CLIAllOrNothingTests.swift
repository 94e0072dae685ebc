import DBSTestSupport
import Foundation
import Testing

/// A restore places everything or nothing; `--salvage` places exactly what verifies;
/// a kill at any moment of a backup or a restore leaves nothing behind.
@Suite("dbs: all or nothing, and nothing after a kill", .serialized)
struct CLIAllOrNothingTests {
    /// `count` incompressible files of `size` bytes in `tree/`, f00 f01 ...
    static func tree(_ scratch: Scratch, count: Int, size: Int, seed: UInt64 = 31) throws -> String {
        var rng = SeededGenerator(seed: seed)
        for i in 0..<count {
            try scratch.write("tree/f" + (i < 10 ? "0" : "") + "\(i)", rng.bytes(size))
        }
        return scratch.file("tree")
    }

    static func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func failedRestorePlacesNothingAndSalvageKeepsExactlyTheVerifiedEntries() throws {
        let scratch = try Scratch()
        let tree = try Self.tree(scratch, count: 40, size: 256 << 10)
        let backup = scratch.file("tree.dbs")
        let made = try DBSTool.run(["backup", backup, tree] + DBSTool.fastKDF)
        try #require(made.status == 0, "\(made.stderr)")
        // Stripe 6 of 11 (a record is 8 KiB + 255 shards of 4 KiB) destroyed in both copies.
        try damage(backup, ["--zero-in-copy", "A:6400000:204800", "--zero-in-copy", "B:6400000:204800"])

        let failed = try DBSTool.run(["restore", backup, "--to", scratch.file("out")])
        #expect(failed.status == 4, "\(failed.stderr)")
        #expect(failed.stderr.contains("nothing was restored"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out")), "nothing new remains")
        try FileManager.default.createDirectory(atPath: scratch.file("existing"), withIntermediateDirectories: false)
        #expect(try DBSTool.run(["restore", backup, "--to", scratch.file("existing")]).status == 4)
        #expect(Self.names(scratch.file("existing")).isEmpty)

        let salvaged = try DBSTool.run(["restore", backup, "--to", scratch.file("salvage"), "--salvage", "--json"])
        #expect(salvaged.status == 4, "\(salvaged.stderr)")
        let report = try salvaged.json()
        #expect(report["ok"] as? Bool == false)
        let lost = try #require(report["lost"] as? [[String: Any]])
        try #require(lost.count == 1)
        let lostPath = try #require(lost[0]["path"] as? String)
        let ranges = try #require(lost[0]["lost_bytes"] as? [[Int]])
        #expect(ranges.count == 1 && ranges[0][1] == 256 << 10 && ranges[0][0] < 256 << 10)
        #expect(report["unread_after_damage"] as? Bool == true)
        // Placed: the directory and the files before the damage, each byte for byte;
        // not the lost one, nothing after it, no temporary.
        let placed = Self.names(scratch.file("salvage/tree"))
        let all = Self.names(tree)
        let lostName = String(lostPath.dropFirst("tree/".count))
        let lostIndex = try #require(all.firstIndex(of: lostName))
        #expect(lostIndex > 0 && lostIndex < all.count - 1, "the damage is in the middle")
        #expect(placed == Array(all[..<lostIndex]))
        for name in placed {
            #expect(
                FileManager.default.contentsEqual(
                    atPath: tree + "/" + name, andPath: scratch.file("salvage/tree/" + name)))
        }
        #expect(report["entries"] as? Int == placed.count + 1)
        #expect(Self.names(scratch.file("salvage")) == ["tree"])

        let text = try DBSTool.run(["restore", backup, "--to", scratch.file("salvage-text"), "--salvage"])
        #expect(text.status == 4)
        #expect(text.stderr.contains("lost \(lostPath): bytes \(ranges[0][0])-262144"), "\(text.stderr)")
        #expect(text.stderr.contains("could not be read"), "\(text.stderr)")
    }

    /// Starts `dbs`, kills it with `signal` after `delay` seconds; returns how it ended
    /// (nil when it finished first).
    static func interrupt(
        _ arguments: [String], after delay: Double, with signal: Int32,
        environment: [String: String] = [:]
    ) throws -> Int32? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DBSTool.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["DBS_PASSPHRASE"] = "correct horse"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let watchdog = Watchdog(pid: process.processIdentifier)
        usleep(UInt32(delay * 1_000_000))
        kill(process.processIdentifier, signal)
        watchdog.wait(for: process, "dbs \(arguments.joined(separator: " ")) after signal \(signal)")
        if process.terminationReason == .uncaughtSignal { return process.terminationStatus }
        return nil
    }

    /// Interrupts `arguments` with `signal` at shorter and shorter fractions of `whole`
    /// until the signal lands while the run works (the shared machine's speed varies
    /// from run to run); `reset` clears what a run that finished first left.
    /// Returns whether it landed.
    static func interruptWhileRunning(
        _ arguments: [String], whole: Double, with signal: Int32,
        environment: [String: String], reset: () throws -> Void
    ) throws -> Bool {
        for fraction in [0.5, 0.3, 0.15, 0.05] {
            if try interrupt(arguments, after: whole * fraction, with: signal, environment: environment) == signal {
                return true
            }
            try reset()
        }
        return false
    }

    /// Runs `dbs` to completion (it must succeed) and says how long it took.
    static func seconds(_ arguments: [String], environment: [String: String] = [:]) throws -> Double {
        let start = Date()
        let result = try DBSTool.run(arguments, environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return Date().timeIntervalSince(start)
    }

    /// When the kills of a backup or a restore land, as fractions of one timed run: four
    /// spread over the run, then earlier ones until two have landed while it ran. A run
    /// timed on a loaded machine can be twice as long as the next (CI saw SIGINT land
    /// once in four), and a kill after the end tests nothing.
    static let killFractions = [0.05, 0.3, 0.6, 0.85, 0.15, 0.02, 0.4, 0.1]

    @Test(arguments: [SIGKILL, SIGINT, SIGTERM])
    func killedBackupLeavesNothing(signal: Int32) throws {
        let scratch = try Scratch()
        let tree = try Self.tree(scratch, count: 16, size: 2 << 20)
        let outputs = scratch.file("outputs")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)
        let arguments = ["backup", outputs + "/t.dbs", tree, "--threads", "1", "--quiet"] + DBSTool.fastKDF
        let whole = try Self.seconds(arguments)
        try FileManager.default.removeItem(atPath: outputs + "/t.dbs")
        var killed = 0
        for (round, fraction) in Self.killFractions.enumerated() where round < 4 || killed < 2 {
            if try Self.interrupt(arguments, after: whole * fraction, with: signal) == signal { killed += 1 }
            let left = Self.names(outputs)
            #expect(left.isEmpty || left == ["t.dbs"], "after \(fraction) of \(whole) s: \(left)")
            if left == ["t.dbs"] { try FileManager.default.removeItem(atPath: outputs + "/t.dbs") }
        }
        #expect(killed >= 2, "the kills landed while the backup ran")
    }

    @Test(arguments: [SIGKILL, SIGINT, SIGTERM])
    func killedRestoreLeavesNothing(signal: Int32) throws {
        let scratch = try Scratch()
        let tree = try Self.tree(scratch, count: 16, size: 2 << 20)
        let backup = scratch.file("t.dbs")
        #expect(try DBSTool.run(["backup", backup, tree, "--threads", "1"] + DBSTool.fastKDF).status == 0)
        let target = scratch.file("restored")
        let arguments = ["restore", backup, "--to", target, "--threads", "1", "--quiet"]
        let whole = try Self.seconds(arguments)
        try expectSameTree(tree, target + "/tree")
        try FileManager.default.removeItem(atPath: target)
        var killed = 0
        for (round, fraction) in Self.killFractions.enumerated() where round < 4 || killed < 2 {
            if try Self.interrupt(arguments, after: whole * fraction, with: signal) == signal { killed += 1 }
            if FileManager.default.fileExists(atPath: target) {
                // Only a run that finished before the signal may leave anything: all of it.
                try expectSameTree(tree, target + "/tree")
                try FileManager.default.removeItem(atPath: target)
            }
            #expect(Self.names(scratch.path) == ["t.dbs", "tree"], "after \(fraction) of \(whole) s")
        }
        #expect(killed >= 2, "the kills landed while the restore ran")
    }

    /// Without O_TMPFILE (forced here): SIGINT and SIGTERM remove the named
    /// temporaries; what SIGKILL leaves, the next run into the same place removes.
    @Test func namedTemporariesAreRemovedOnInterruptAndByTheNextRun() throws {
        let scratch = try Scratch()
        let tree = try Self.tree(scratch, count: 16, size: 2 << 20)
        let named = ["DBS_NAMED_TEMPORARIES": "1"]
        let outputs = scratch.file("outputs")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)
        let backupArguments = ["backup", outputs + "/t.dbs", tree, "--threads", "1", "--quiet"] + DBSTool.fastKDF
        let whole = try Self.seconds(backupArguments, environment: named)
        let backup = scratch.file("t.dbs")
        try FileManager.default.moveItem(atPath: outputs + "/t.dbs", toPath: backup)
        let clear = {
            if FileManager.default.fileExists(atPath: outputs + "/t.dbs") {
                try FileManager.default.removeItem(atPath: outputs + "/t.dbs")
            }
        }
        for signal in [SIGINT, SIGTERM] {
            #expect(
                try Self.interruptWhileRunning(
                    backupArguments, whole: whole, with: signal, environment: named, reset: clear))
            // As for the restore below: a signal during the final rename waits for it.
            let left = Self.names(outputs)
            #expect(left.isEmpty || left == ["t.dbs"], "\(signal): \(left)")
            try clear()
        }
        #expect(
            try Self.interruptWhileRunning(
                backupArguments, whole: whole, with: SIGKILL, environment: named, reset: clear))
        let leftover = Self.names(outputs)
        #expect(leftover.count == 1 && leftover[0].hasPrefix(".t.dbs.tmp-"), "\(leftover)")
        #expect(try DBSTool.run(backupArguments, environment: named).status == 0)
        #expect(Self.names(outputs) == ["t.dbs"], "the next backup removed the dead run's temporary")

        let target = scratch.file("restored")
        let restoreArguments = ["restore", backup, "--to", target, "--threads", "1", "--quiet"]
        let restoreTime = try Self.seconds(restoreArguments, environment: named)
        try FileManager.default.removeItem(atPath: target)
        let reset = {
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
        }
        for signal in [SIGINT, SIGTERM] {
            #expect(
                try Self.interruptWhileRunning(
                    restoreArguments, whole: restoreTime, with: signal,
                    environment: named, reset: reset))
            // A signal that arrives while the restore gives its names waits for that commit
            // (all or nothing), then ends the process: everything is there, nothing else
            // (release builds restore this tree in a fraction of a second, so the kill
            // lands in the commit now and then). Otherwise nothing is.
            if FileManager.default.fileExists(atPath: target) {
                try expectSameTree(tree, target + "/tree")
                try reset()
            }
        }
        // SIGKILL leaves temporaries only once the restore has staged a file, which on a
        // loaded machine can be after half its usual time: later and later until one does.
        var killedLeft: [String] = []
        for fraction in [0.5, 0.7, 0.85, 0.95] where killedLeft.isEmpty {
            try reset()
            if try Self.interrupt(
                restoreArguments, after: restoreTime * fraction, with: SIGKILL,
                environment: named) == SIGKILL
            {
                killedLeft = Self.names(target + "/tree")
            }
        }
        #expect(!killedLeft.isEmpty && killedLeft.allSatisfy { $0.hasPrefix(".dbs-restore-") }, "\(killedLeft)")
        #expect(try DBSTool.run(restoreArguments + ["--force"], environment: named).status == 0)
        #expect(Self.names(target + "/tree") == Self.names(tree), "the next restore removed the dead run's temporaries")
        for name in Self.names(tree) {
            #expect(FileManager.default.contentsEqual(atPath: tree + "/" + name, andPath: target + "/tree/" + name))
        }
    }
}
