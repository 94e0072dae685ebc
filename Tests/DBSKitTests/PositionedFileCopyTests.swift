import Foundation
import Testing
@testable import DBSKit

@Suite("IO: copying a range within a file")
struct PositionedFileCopyTests {
    @Test(arguments: [0, 1, 4096, (3 << 20) + 17])
    func copiesTheRangeExactly(count: Int) throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let file = try PositionedFile.createExclusive(dir + "/f")
        let bytes = Fixture.randomBytes(count, seed: UInt64(count))
        try file.write(bytes, at: 100)
        try file.copy(count: count, from: 100, to: UInt64(200 + count))
        #expect(try file.read(count: count, at: UInt64(200 + count)) == bytes)
        #expect(try file.read(count: count, at: 100) == bytes)
    }

    @Test func aSourceThatEndsEarlyIsAnError() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let file = try PositionedFile.createExclusive(dir + "/f")
        try file.write([UInt8](repeating: 1, count: 1000), at: 5000)
        #expect(throws: IOError.self) { try file.copy(count: 2000, from: 5000, to: 0) }
    }
}
