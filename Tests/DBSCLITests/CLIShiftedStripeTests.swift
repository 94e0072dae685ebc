import DBSTestSupport
import Foundation
import Testing

/// Issue 12, item 8, through the command line: a backup with a byte inserted into copy A
/// and a 4 KiB block dropped from copy B (what a `dd conv=noerror` rescue without `sync`
/// does) restores exactly; validate names the shifts (text and JSON); repair writes a
/// file at the nominal layout that validates healthy and restores byte for byte.
@Suite("dbs finds shifted stripes", .serialized)
struct CLIShiftedStripeTests {
    @Test func insertedByteAndDroppedBlockHealThroughEveryCommand() throws {
        let scratch = try Scratch()
        let tree = try CLIRoundTripTests.makeTree(in: scratch)
        let backup = scratch.file("tree.dbs")
        #expect(try DBSTool.run(["backup", backup, tree] + DBSTool.fastKDF).status == 0)
        let inspected = try DBSTool.run(["inspect", backup, "--json"], passphrase: nil).json()
        let copies = try #require(inspected["copies"] as? [[String: Any]])
        let a = try #require(copies.first)
        let b = try #require(copies.last)
        let aMiddle = (a["offset"] as! Int) + (a["length"] as! Int) / 2 + 1001
        let bMiddle = (b["offset"] as! Int) + (b["length"] as! Int) / 3 / 4096 * 4096
        var bytes = try #require(FileManager.default.contents(atPath: backup))
        bytes.removeSubrange(bMiddle..<(bMiddle + 4096))  // the later edit first
        bytes.insert(0x42, at: aMiddle)
        try bytes.write(to: URL(fileURLWithPath: backup))

        let text = try DBSTool.run(["validate", backup], passphrase: nil)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("healable"), "\(text.stderr)")
        #expect(text.stderr.contains("found shifted: copy A stripe"), "\(text.stderr)")
        #expect(text.stderr.contains("by +1 bytes"), "\(text.stderr)")
        #expect(text.stderr.contains("by -4095 bytes"), "\(text.stderr)")

        let json = try DBSTool.run(["validate", backup, "--json"], passphrase: nil)
        #expect(json.status == 0, "\(json.stderr)")
        let report = try json.json()
        #expect(report["status"] as? String == "healable")
        let shifted = try #require(report["shifted"] as? [[String: Any]])
        #expect(shifted.contains { $0["copy"] as? Int == 0 && $0["shift"] as? Int == 1 }, "\(shifted)")
        #expect(shifted.contains { $0["copy"] as? Int == 1 && $0["shift"] as? Int == 1 - 4096 }, "\(shifted)")

        let restored = try DBSTool.run(["restore", backup, "--to", scratch.file("out"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try restored.json()["healed"] as? Bool == true)
        try expectSameTree(tree, scratch.file("out/tree"))

        let repaired = scratch.file("repaired.dbs")
        let repair = try DBSTool.run(["repair", backup, repaired], passphrase: nil)
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.stderr.contains("found shifted"), "\(repair.stderr)")
        let clean = try DBSTool.run(["validate", repaired, "--json"])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(try clean.json()["status"] as? String == "healthy")
        let again = try DBSTool.run(["inspect", repaired, "--json"], passphrase: nil).json()
        #expect(again["fileSize"] as? Int == again["expectedFileSize"] as? Int)
        #expect(try DBSTool.run(["restore", repaired, "--to", scratch.file("again")]).status == 0)
        try expectSameTree(tree, scratch.file("again/tree"))
    }
}
