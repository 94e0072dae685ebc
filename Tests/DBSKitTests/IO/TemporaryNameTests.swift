import Foundation
import Testing

@testable import DBSKit
@testable import DBSSystem

/// A leftover temporary is removed only when its name proves a dead run of this
/// user on this boot.
@Suite("Stale temporary files")
struct TemporaryNameTests {
    @Test func onlyADeadRunsOwnTemporariesAreRemoved() throws {
        let work = TemporaryDirectory()
        // A process that has exited: its pid, with the start time it had.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["0.2"]
        try child.run()
        let pid = child.processIdentifier
        let start = try #require(TemporaryName.startTime(of: pid))
        child.waitUntilExit()
        let boot = TemporaryName.bootID
        try #require(!boot.isEmpty)
        let prefix = ".dbs-restore-"
        let dead = prefix + "\(pid)-\(start)-\(boot)-1"
        let alive = prefix + TemporaryName.processTag + "-2"
        let parentTag = "\(getppid())-\(TemporaryName.startTime(of: getppid()) ?? 0)-\(boot)-3"
        let otherBoot = prefix + "\(pid)-\(start)-00000000-4"
        let notOurs = prefix + "report.txt"
        let otherUser = prefix + "\(pid)-\(start)-\(boot)-5"
        for name in [dead, alive, prefix + parentTag, otherBoot, notOurs, otherUser] {
            try TreeBuilder.write(work.sub(name), [1])
        }
        let chownable = geteuid() == 0
        if chownable { try #require(chown(work.sub(otherUser), 65534, 65534) == 0) }
        let directory = open(work.path, O_RDONLY | O_DIRECTORY)
        defer { close(directory) }
        let removed = TemporaryName.removeStale(in: directory, prefix: prefix)
        #expect(removed.sorted() == (chownable ? [dead] : [dead, otherUser]).sorted())
        #expect(
            try relativePaths(work.path).sorted()
                == ([alive, prefix + parentTag, otherBoot, notOurs] + (chownable ? [otherUser] : [])).sorted())
    }

    @Test func namesCarryThisProcessAndAreUnique() {
        let a = TemporaryName.make(prefix: ".x-")
        let b = TemporaryName.make(prefix: ".x-")
        #expect(a != b)
        #expect(a.hasPrefix(".x-\(getpid())-"))
        #expect(!TemporaryName.isStale(tagOf: String(a.dropFirst(3))))
    }
}
