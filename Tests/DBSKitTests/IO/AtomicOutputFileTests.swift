import Foundation
import Testing

@testable import DBSKit
@testable import DBSSystem

/// The file a backup or a repair writes appears at its destination whole, or nothing
/// appears and nothing is left behind; it replaces only a regular file, and only when
/// asked to. Real files in a temporary directory, through whichever temp file this file
/// system gives (unnamed with O_TMPFILE, else named beside the destination;
/// `DBS_NAMED_TEMPORARIES=1` forces the named one, and the suite passes both ways).
@Suite("IO: atomic output file")
struct AtomicOutputFileTests {
    static let content: [UInt8] = Array("the whole backup".utf8)

    /// Writes `content` into a fresh output for `destination`, at two offsets.
    static func written(_ destination: String, overwrite: Bool = false) throws -> AtomicOutputFile {
        let output = try AtomicOutputFile(destination: destination, overwrite: overwrite)
        try output.file.write(Array(content[8...]), at: 8)
        try output.file.write(Array(content[..<8]), at: 0)
        return output
    }

    static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    @Test func commitGivesTheWholeFileItsNameAndNothingElseStays() throws {
        let work = TemporaryDirectory()
        let destination = work.sub("site.dbs")
        let output = try Self.written(destination)
        #expect(!AtomicOutputFile.exists(destination), "named before commit")
        // Until the commit the destination's directory holds at most the named temp file.
        let before = try relativePaths(work.path)
        #expect(before.isEmpty == output.isUnnamed)
        #expect(before.allSatisfy { $0.hasPrefix(AtomicOutputFile.temporaryPrefix("site.dbs")) })
        // The temp file reads back through its temporary path.
        #expect(try PositionedFile.openForReading(output.temporaryPath).read(count: 64, at: 0) == Self.content)
        try output.commit()
        #expect(try Self.contents(destination) == Self.content)
        #expect(Self.mode(destination) == 0o600)
        #expect(try relativePaths(work.path) == ["site.dbs"])
    }

    @Test func discardLeavesNothingAndIsIdempotent() throws {
        let work = TemporaryDirectory()
        let output = try Self.written(work.sub("site.dbs"))
        output.discard()
        output.discard()
        #expect(try relativePaths(work.path).isEmpty)
    }

    @Test func anOutputDroppedUncommittedLeavesNothing() throws {
        let work = TemporaryDirectory()
        do { _ = try Self.written(work.sub("site.dbs")) }
        #expect(try relativePaths(work.path).isEmpty)
    }

    @Test func anExistingDestinationIsRefusedUnlessOverwriting() throws {
        let work = TemporaryDirectory()
        let destination = work.sub("site.dbs")
        try TreeBuilder.write(destination, [1, 2, 3])
        #expect(throws: IOError(path: destination, operation: "create", errno: EEXIST)) {
            _ = try AtomicOutputFile(destination: destination, overwrite: false)
        }
        #expect(try Self.contents(destination) == [1, 2, 3])
        #expect(try relativePaths(work.path) == ["site.dbs"])

        let output = try Self.written(destination, overwrite: true)
        #expect(try Self.contents(destination) == [1, 2, 3], "replaced before commit")
        try output.commit()
        #expect(try Self.contents(destination) == Self.content)
        #expect(try relativePaths(work.path) == ["site.dbs"])
    }

    /// Something that takes the name while the file is written is not replaced: the
    /// commit links (never renames over) when not overwriting.
    @Test func aDestinationThatAppearsMeanwhileIsNotReplaced() throws {
        let work = TemporaryDirectory()
        let destination = work.sub("site.dbs")
        let output = try Self.written(destination)
        try TreeBuilder.write(destination, [9])
        #expect(throws: IOError(path: destination, operation: "rename", errno: EEXIST)) { try output.commit() }
        output.discard()
        #expect(try Self.contents(destination) == [9])
        #expect(try relativePaths(work.path) == ["site.dbs"])
    }

    /// Overwriting replaces a regular file only: renaming over a directory, a symlink
    /// or a FIFO would destroy what is not a backup (`--force /dev/null` as root).
    @Test(arguments: ["directory", "symlink", "fifo"])
    func aDestinationThatIsNotARegularFileIsNeverReplaced(kind: String) throws {
        let work = TemporaryDirectory()
        let destination = work.sub("site.dbs")
        try TreeBuilder.write(work.sub("target"), [7])
        switch kind {
        case "directory": try #require(mkdir(destination, 0o755) == 0)
        case "symlink": try #require(symlink("target", destination) == 0)
        default: try #require(mkfifo(destination, 0o644) == 0)
        }
        let before = try relativePaths(work.path)
        #expect(throws: IOError(path: destination, operation: "create", errno: EEXIST)) {
            _ = try AtomicOutputFile(destination: destination, overwrite: false)
        }
        #expect(throws: IOError(path: destination, operation: AtomicOutputFile.refusesToReplace, errno: EINVAL)) {
            _ = try AtomicOutputFile(destination: destination, overwrite: true)
        }
        #expect(try relativePaths(work.path) == before)
        #expect(try Self.contents(work.sub("target")) == [7])
    }

    /// The same refusal when the non-regular file appears after the output was created.
    @Test func aNonRegularFileThatAppearsMeanwhileIsNotReplaced() throws {
        let work = TemporaryDirectory()
        let destination = work.sub("site.dbs")
        let output = try Self.written(destination, overwrite: true)
        try #require(mkfifo(destination, 0o644) == 0)
        #expect(throws: IOError(path: destination, operation: AtomicOutputFile.refusesToReplace, errno: EINVAL)) {
            try output.commit()
        }
        output.discard()
        #expect(try relativePaths(work.path) == ["site.dbs"])
        var info = stat()
        #expect(lstat(destination, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
    }
}
