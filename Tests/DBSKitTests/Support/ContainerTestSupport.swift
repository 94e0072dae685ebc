import DBSSecurity
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Temp directories, backups written and read back, and file surgery for the
/// container tests.
enum Fixture {
    /// Cheap Argon2id so that tests spend their time on the container, not the KDF.
    static let fastKDF = KDFParameters(timeCost: 1, memoryKiB: 8192, parallelism: 1)
    static let passphrase = "correct horse battery staple"

    static func secure(_ text: String) -> SecureBytes { SecureBytes(Array(text.utf8)) }

    /// Small stripes (k = 8, m = 4, S = 512) so multi-stripe files stay small.
    static func smallOptions(copies: Int = 2, threads: Int = 2) -> BackupOptions {
        BackupOptions(
            threads: threads, copies: copies, dataShards: 8, parityShards: 4, shardSize: 512,
            kdf: fastKDF, chunkSize: 3000)
    }

    /// The default shape with a cheap KDF.
    static func defaultShapeOptions(threads: Int = 2) -> BackupOptions {
        BackupOptions(threads: threads, kdf: fastKDF)
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "dbs-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            var word = rng.next()
            for _ in 0..<8 where i < count {
                out[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        return out
    }

    /// Text-like bytes that compress.
    static func compressibleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        let words = ["alpha ", "beta ", "gamma ", "delta ", "record ", "{\"id\": ", "42, ", "\n"].map { Array($0.utf8) }
        var out = [UInt8]()
        out.reserveCapacity(count + 16)
        while out.count < count { out.append(contentsOf: words[Int(rng.next() % UInt64(words.count))]) }
        return Array(out.prefix(count))
    }

    @discardableResult
    static func write(
        _ data: [UInt8], to path: String, options: BackupOptions,
        passphrase: String = passphrase, pieceSize: Int = 7919
    ) throws -> BackupSummary {
        let writer = try BackupWriter(destination: path, passphrase: secure(passphrase), options: options)
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + pieceSize)
            try writer.write(data[offset..<end])
            offset = end
        }
        return try writer.finish()
    }

    static func read(
        _ path: String, passphrase: String = passphrase, threads: Int = 2
    ) throws -> ([UInt8], RepairReport) {
        let reader = try BackupReader(path: path, passphrase: secure(passphrase), threads: threads)
        var out = [UInt8]()
        while try reader.read(into: &out, maxLength: 65536) > 0 {}
        return (out, reader.repairReport)
    }

    static func bytes(of path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

    static func store(_ bytes: [UInt8], at path: String) { try! Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Applies `change` to the file's bytes in place.
    static func mutate(_ path: String, _ change: (inout [UInt8]) -> Void) {
        var bytes = bytes(of: path)
        change(&bytes)
        store(bytes, at: path)
    }

    static func info(_ path: String) throws -> BackupInfo { try BackupInspector.inspect(path: path) }
}
