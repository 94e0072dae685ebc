import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Issue 12, item 3: the layout scan is linear in the file size whatever the file
/// holds, and a file whose ends hold no DBS structure is refused without reading it all.
@Suite("Layout scan: hostile patterns and files that are not backups")
struct LayoutScanTests {
    /// `pattern` repeated to `size` bytes.
    static func repeated(_ pattern: [UInt8], size: Int) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(size + pattern.count)
        while bytes.count < size { bytes.append(contentsOf: pattern) }
        return Array(bytes.prefix(size))
    }

    /// A stripe header's fixed fields, plausible (version 1, a real shape), as a pattern
    /// of `period` bytes: each copy passes the in-place check and costs a checksum.
    static func plausibleHeaderPattern(period: Int) throws -> [UInt8] {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        try Fixture.write([1, 2, 3], to: path, options: Fixture.smallOptions())
        let located = try ContainerLocator.locate(try PositionedFile.openForReading(path))
        let offset = Int(located.layout.recordOffset(copy: 0, stripe: 0))
        var header = Array(Fixture.bytes(of: path)[offset..<(offset + period)])
        header[period - 1] ^= 0xFF  // never a valid block
        return header
    }

    /// What used to take 43 s for 256 KiB: every command refuses 1 MiB of each pattern
    /// at once, even in a debug build.
    @Test(arguments: ["DBS-STRP", "DBS-HEAD", "DBS-STRP\u{1}\u{0}\u{0}\u{0}", "plausible"])
    func hostilePatternsAreRefusedInLinearTime(pattern: String) throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/hostile.dbs"
        let unit = pattern == "plausible" ? try Self.plausibleHeaderPattern(period: 256) : Array(pattern.utf8)
        Fixture.store(Self.repeated(unit, size: 1 << 20), at: path)
        let started = Date()
        #expect(throws: BackupError.self) { try BackupInspector.inspect(path: path) }
        #expect(throws: BackupError.self) { try BackupValidator.validate(path: path, threads: 2) }
        #expect(throws: BackupError.self) { try Fixture.read(path) }
        let seconds = Date().timeIntervalSince(started)
        // Generous for a debug build on a loaded machine; the quadratic scan took about
        // 100 s per command for 1 MiB.
        #expect(seconds < 30, "\(pattern): \(seconds) s for three commands on 1 MiB")
    }

    /// A large file without any DBS structure in its first and last 64 MiB: "not a DBS
    /// backup" after reading those, not the whole file (sparse, so nothing is written).
    @Test func aLargeFileThatIsNotABackupIsRefusedFromItsEnds() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/big.img"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 8 << 30)  // 8 GiB, sparse
        try handle.close()
        let started = Date()
        do {
            _ = try BackupInspector.inspect(path: path)
            Issue.record("an 8 GiB file of zeros was inspected as a backup")
        } catch {
            guard case .notABackup(let why) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(why.contains("first and last 64 MiB"), "\(why)")
        }
        #expect(Date().timeIntervalSince(started) < 20)
    }

    /// The scan still finds what it is for: every head gone, the layout comes from the
    /// stripe headers (with a damaged first header corrected within the budget).
    @Test func everyHeadGoneIsStillFoundByTheScan() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(30_000, seed: 3)
        try Fixture.write(data, to: path, options: Fixture.smallOptions())
        let layout = try ContainerLocator.locate(try PositionedFile.openForReading(path)).layout
        Fixture.mutate(path) { bytes in
            for head in 0..<3 {
                let offset = head == 2 ? bytes.count - ProtectedBlock.size : Int(layout.headBlockOffset(head))
                for i in offset..<(offset + ProtectedBlock.size) { bytes[i] = 0 }
            }
            // A few flipped bytes in the first stripe header's body: its checksum fails.
            let first = Int(layout.recordOffset(copy: 0, stripe: 0))
            for i in [30, 200, 900] { bytes[first + i] ^= 0x55 }
        }
        let (back, report) = try Fixture.read(path)
        #expect(back == data)
        #expect(report.layoutFromScan)
    }
}
