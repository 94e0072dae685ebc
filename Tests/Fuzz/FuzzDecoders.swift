import DBSIntegrity
import DBSPayload
import DBSSystem
import Foundation

/// What each fuzz target does with one input, and the invariants it checks beyond
/// "no trap": a decoded value re-encodes to itself, the protected-block codec returns
/// exactly what it encoded after damage within its capacity, and the file-level readers
/// end in one of the documented refusals, never an internal failure.
enum FuzzDecoders {
    /// The input as a protected block's body, encoded, damaged within the code's
    /// capacity (up to 29 wrong bytes in one column chosen by the input), decoded:
    /// the body must come back exactly.
    static func protectedBody(_ input: [UInt8]) -> [UInt8] {
        var body = Array(input.prefix(ProtectedBlock.bodySize))
        var block = ProtectedBlock.encode(body: body)
        body.append(contentsOf: repeatElement(0, count: ProtectedBlock.bodySize - body.count))
        if let last = input.last, last & 0x80 != 0 {
            // Column `c`, `errors` shards changed in it (distinct rows, 1..29).
            let c = Int(last) % ProtectedBlock.columns
            let errors = 1 + Int(input.count % 29)
            let shards = ProtectedBlock.dataShards + ProtectedBlock.parityShards
            for e in 0..<errors {
                let row = (e * 37 + Int(input.first ?? 0)) % shards
                block[row * ProtectedBlock.columns + c] ^= UInt8(truncatingIfNeeded: 1 + e)
            }
        }
        let decoded = ProtectedBlock.decode(block)
        fuzzCheck(decoded?.body == body, "the protected block lost its body after damage within capacity")
        return body
    }

    static func head(_ input: [UInt8]) {
        let body = protectedBody(input)
        guard let head = try? Head(body: body) else { return }
        // Derived values of an accepted head must not overflow anywhere a reader uses them.
        let layout = head.layout
        _ = (layout.fileLength, layout.headRegionOffset(2), layout.copyOffset(layout.copies - 1))
        fuzzCheck((try? Head(body: head.body)) == head, "an accepted head does not re-encode to itself")
    }

    static func stripe(_ input: [UInt8]) {
        let body = protectedBody(input)
        guard let header = try? StripeHeader(body: body) else { return }
        fuzzCheck(
            (try? StripeHeader(body: header.body)) == header, "an accepted stripe header does not re-encode to itself")
    }

    static func entry(_ input: [UInt8]) {
        for version in [UInt16(1), PayloadFormat.version] {
            guard let entry = try? EntryHeaderCoding.decode(input, version: version) else { continue }
            let again = try? EntryHeaderCoding.encode(entry, version: version)
            fuzzCheck(again != nil, "an accepted entry header is refused by the encoder: \(entry)")
            fuzzCheck(
                again.flatMap { try? EntryHeaderCoding.decode($0, version: version) } == entry,
                "an accepted entry header does not re-encode to itself")
        }
    }

    /// One scratch file per process (libFuzzer's -fork/-jobs run several).
    static let scratch =
        (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        + "/dbs-fuzz-\(getpid()).dbs"

    static func file(_ input: [UInt8]) {
        guard FileManager.default.createFile(atPath: scratch, contents: Data(input)) else {
            fuzzLog("cannot write \(scratch)\n")
            exit(1)
        }
        // The validator locates the container again: a file the locator refuses is
        // refused the same way there, so only a located one is validated.
        do {
            let file = try PositionedFile.openForReading(scratch)
            let located = try ContainerLocator.locate(file)
            fuzzCheck(located.heads.count == 3 && located.decodedHeads.count == 3, "located heads \(located.heads)")
            fuzzCheck(located.fileLength == UInt64(input.count), "located file length \(located.fileLength)")
        } catch let error as ContainerError {
            checkRefusal(BackupError(error), "locate")
            return
        } catch {
            fuzzCheck(false, "locate threw \(error)")
        }
        do {
            _ = try BackupValidator.validate(path: scratch, threads: 1)
        } catch {
            checkRefusal(error, "validate")
        }
    }

    /// A refusal of the file's content; an internal failure, an I/O error on a readable
    /// file or an options error is a bug.
    static func checkRefusal(_ error: BackupError, _ what: String) {
        fuzzCheck(error.isRefusalOfTheFile, "\(what) failed with \(error)")
    }
}
