import DBSIntegrity
import DBSPayload
import DBSSystem
import Foundation

/// The seed corpus, written by the engine itself (so it always matches the format this
/// build reads): small backups of the shapes issue 12 found thin, and the head, stripe
/// header and entry-header bodies taken from them. Kept small (a few files of tens of
/// KiB) so that libFuzzer's mutations reach every part of a file often.
enum FuzzSeeds {
    /// copies, k, m, shard size, plaintext bytes.
    static let shapes: [(Int, Int, Int, Int, Int)] = [
        (2, 4, 2, 16, 150),  // two copies, the smallest shards: several stripes
        (1, 4, 2, 16, 150),  // a single copy
        (2, 8, 4, 64, 1200),  // more parity
        (1, 3, 1, 32, 40),  // a single stripe, one parity shard
    ]

    static func write(to directory: String) throws {
        for target in ["head", "stripe", "file", "entry"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + target, withIntermediateDirectories: true)
        }
        func store(_ bytes: [UInt8], _ target: String, _ name: String) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(target)/\(name)"))
        }
        for (n, (copies, k, m, s, size)) in shapes.enumerated() {
            let path = "\(directory)/file/backup-\(n).dbs"
            try? FileManager.default.removeItem(atPath: path)
            let options = BackupOptions(
                threads: 1, copies: copies, dataShards: k, parityShards: m, shardSize: s,
                kdf: KDFParameters(timeCost: 1, memoryKiB: 8, parallelism: 1),
                chunkSize: 64)
            let writer = try BackupWriter(
                destination: path, passphrase: SecureBytes(Array("fuzz".utf8)), options: options)
            let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ n) }
            try plaintext.withUnsafeBytes { try writer.write($0) }
            _ = try writer.finish()

            let file = try PositionedFile.openForReading(path)
            let located = try ContainerLocator.locate(file)
            for (index, head) in located.decodedHeads.enumerated() {
                if let head { try store(head.body, "head", "head-\(n)-\(index)") }
            }
            let layout = located.layout
            for copy in 0..<layout.copies {
                for stripe in Set([0, layout.stripeCount - 1]) {
                    if let header = ContainerLocator.decodeStripeHeader(
                        file, at: layout.recordOffset(copy: copy, stripe: stripe))
                    {
                        try store(header.body, "stripe", "stripe-\(n)-\(copy)-\(stripe)")
                    }
                }
            }
        }
        let time = FileTimestamp(seconds: 1_700_000_000, nanoseconds: 5)
        let entries = [
            EntryMetadata(path: "dir/file.txt", kind: .file, mode: 0o644, modificationTime: time, size: 12),
            EntryMetadata(path: "dir", kind: .directory, mode: 0o755, modificationTime: time),
            EntryMetadata(
                path: "link", kind: .symlink, mode: 0o777, modificationTime: time, linkTarget: "dir/file.txt"),
            EntryMetadata(
                path: "records/0", kind: .records, mode: 0o600, modificationTime: time, isStreamed: true,
                modelLabel: "app.Model", extra: ["format": "jsonl"]),
            EntryMetadata(
                path: "dev/null", kind: .characterDevice, mode: 0o666, modificationTime: time,
                owner: EntryOwner(uid: 0, gid: 0, user: "root", group: "root"),
                extendedAttributes: [ExtendedAttribute(name: "user.a", value: [1, 2, 3])],
                device: DeviceNumber(major: 1, minor: 3)),
        ]
        for (n, entry) in entries.enumerated() {
            if !entry.needsVersion2 {
                try store(EntryHeaderCoding.encode(entry, version: 1), "entry", "entry-v1-\(n)")
            }
            try store(EntryHeaderCoding.encode(entry), "entry", "entry-\(n)")
        }
    }
}
