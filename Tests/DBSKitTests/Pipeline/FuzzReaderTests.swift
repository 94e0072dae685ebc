import DBSSecurity
import DBSSystem
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// The reader, inspector and validator on hostile input: random files and random
/// mutations of valid small backups. Each run must end (no crash, no hang) with the
/// exact plaintext or an error: never other bytes.
@Suite("Fuzz: reader on random and mutated files")
struct FuzzReaderTests {
    /// Mutated files per run: every kind of mutation many times over.
    static let mutations = 80

    /// Everything a user could run on a file that is not a backup: each must refuse it
    /// with a documented refusal (never an internal failure), the validator too.
    private func expectRefusedByEveryReader(_ path: String, _ context: String) {
        do {
            _ = try BackupInspector.inspect(path: path)
            Issue.record("\(context): inspected")
        } catch { Self.expectDocumentedRefusal(error, context + ", inspect") }
        do {
            let verdict = try BackupValidator.validate(path: path, threads: 2)
            if case .unrecoverable = verdict {} else { Issue.record("\(context): validated \(verdict)") }
        } catch { Self.expectDocumentedRefusal(error, context + ", validate") }
        do {
            _ = try Fixture.read(path)
            Issue.record("\(context): restored")
        } catch { Self.expectDocumentedRefusal(error, context + ", restore") }
    }

    @Test func randomFilesAreRefused() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        var rng = SeededGenerator(seed: 0xF022)
        let path = dir + "/random.dbs"
        for iteration in 0..<60 {
            let size = Int(rng.next() % 40_000)
            var bytes = Fixture.randomBytes(size, seed: rng.next())
            // Sprinkle magics so that the scanner has candidates to chew on.
            if iteration % 3 == 0, size > 64 {
                for _ in 0..<4 {
                    let at = Int(rng.next() % UInt64(size - 8))
                    let magic = iteration % 2 == 0 ? StripeHeader.magic : Head.magic
                    bytes.replaceSubrange(at..<(at + 8), with: magic)
                }
            }
            Fixture.store(bytes, at: path)
            expectRefusedByEveryReader(path, "random file \(iteration)")
        }
    }

    /// The shapes mutated: the small two-copy default of the tests, and the ones issue 12
    /// found thin (a single copy, whose column rounds trapped; little parity; shards of
    /// 16 bytes, the smallest allowed).
    struct Shape: Sendable, CustomTestStringConvertible {
        var copies: Int, dataShards: Int, parityShards: Int, shardSize: Int
        /// Mutations per run; `reduced` of them (the first ones of the same seeded
        /// sequence) when DBS_FUZZ_REDUCED is set, as the address-sanitizer step of
        /// scripts/test.sh does: there 16-byte shards make ~60 stripes of 8 KiB
        /// protected headers per file, each mutation costing ~10 s, and step 1 has run
        /// the full count on the same code already.
        var full: Int, reduced: Int
        var mutations: Int { ProcessInfo.processInfo.environment["DBS_FUZZ_REDUCED"] == nil ? full : reduced }
        var options: BackupOptions {
            BackupOptions(
                threads: 2, copies: copies, dataShards: dataShards, parityShards: parityShards,
                shardSize: shardSize, kdf: Fixture.fastKDF, chunkSize: 3000)
        }
        var testDescription: String { "copies \(copies), k \(dataShards), m \(parityShards), S \(shardSize)" }
    }

    static let shapes = [
        Shape(copies: 2, dataShards: 8, parityShards: 4, shardSize: 512, full: mutations, reduced: mutations),
        Shape(copies: 1, dataShards: 8, parityShards: 4, shardSize: 1024, full: 40, reduced: 40),
        Shape(copies: 2, dataShards: 10, parityShards: 2, shardSize: 256, full: 30, reduced: 30),
        Shape(copies: 1, dataShards: 20, parityShards: 3, shardSize: 16, full: 30, reduced: 8),
    ]

    /// A fixed number of mutations, whatever the machine's speed (the same cases on
    /// every run, under the sanitizer too); a hang fails through the time limit.
    ///
    /// The validator's verdict is checked against the restore: it never fails
    /// internally, "healthy" or "healable" means the restore returns the exact data,
    /// "unrecoverable" means it refuses. Errors are the documented refusals only.
    @Test(.timeLimit(.minutes(10)), arguments: shapes)
    func mutatedBackupsGiveExactDataOrAnError(shape: Shape) throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let original = dir + "/original.dbs"
        let data = Fixture.randomBytes(20_000, seed: 77)
        try Fixture.write(data, to: original, options: shape.options)
        let pristine = Fixture.bytes(of: original)
        let path = dir + "/mutated.dbs"
        var rng = SeededGenerator(seed: 0xF0221 &+ UInt64(shape.shardSize * 8 + shape.copies))
        var iterations = 0
        var exact = 0
        var refused = 0
        while iterations < shape.mutations {
            iterations += 1
            var bytes = pristine
            let kind = rng.next() % 6
            switch kind {
            case 0:  // a few random bytes anywhere
                for _ in 0..<(1 + rng.next() % 40) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 1:  // a random run overwritten
                let start = Int(rng.next() % UInt64(bytes.count))
                let length = Int(rng.next() % 30_000)
                for i in start..<min(bytes.count, start + length) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2:  // truncated anywhere
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            case 3:  // bytes inserted: everything after shifts
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes.insert(contentsOf: Fixture.randomBytes(Int(1 + rng.next() % 5000), seed: rng.next()), at: at)
            case 4:  // bytes deleted from the middle
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes.removeSubrange(at..<min(bytes.count, at + Int(1 + rng.next() % 5000)))
            default:  // heavy bit rot everywhere
                for _ in 0..<(bytes.count / 200) {
                    let bit = Int(rng.next() % UInt64(bytes.count * 8))
                    bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                }
            }
            Fixture.store(bytes, at: path)
            let context = "\(shape.testDescription), iteration \(iterations), mutation \(kind)"
            do { _ = try BackupInspector.inspect(path: path) } catch {
                Self.expectDocumentedRefusal(error, context + ", inspect")
            }
            let verdict: ValidationReport?
            do {
                verdict = try BackupValidator.validate(path: path, threads: 2)
            } catch {
                Self.expectDocumentedRefusal(error, context)
                verdict = nil
            }
            do {
                let back = try Fixture.read(path).0
                #expect(back == data, "\(context) returned wrong data")
                exact += 1
                if case .unrecoverable? = verdict {
                    Issue.record("\(context): restored, but validated as unrecoverable")
                }
                if verdict == nil { Issue.record("\(context): restored, but the validator refused the file") }
            } catch {
                Self.expectDocumentedRefusal(error, context)
                refused += 1
                switch verdict {
                case .healthy?: Issue.record("\(context): validated healthy, but the restore refused: \(error)")
                case .healable?: Issue.record("\(context): validated healable, but the restore refused: \(error)")
                default: break
                }
            }
        }
        print("fuzz \(shape.testDescription): \(iterations) mutations, \(exact) exact, \(refused) refused")
        // Most mutations are within what repair handles with two copies; a single copy
        // has only its parity (a truncation or a shift loses its tail).
        #expect(shape.copies == 1 ? exact > 0 : exact > refused)
    }

    /// A refusal a user is told about: never an internal failure or an I/O error on a
    /// readable file.
    static func expectDocumentedRefusal(_ error: any Error, _ context: String) {
        guard let error = error as? BackupError, error.isRefusalOfTheFile else {
            Issue.record("\(context): \(error)")
            return
        }
    }

    /// Well-formed heads with hostile values: the readers refuse or stop early, they
    /// neither loop over a claimed 2^40 stripes nor run a huge Argon2.
    @Test func hostileHeadsAreRefusedQuickly() throws {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        try Fixture.write(Fixture.randomBytes(5000, seed: 1), to: path, options: Fixture.smallOptions())
        let pristine = Fixture.bytes(of: path)
        let file = try PositionedFile.openForReading(path)
        let located = try ContainerLocator.locate(file)

        func rewriteHeads(_ change: (inout Head) -> Void) {
            var bytes = pristine
            for head in 0..<3 {
                var record = Head(
                    headIndex: head, descriptor: located.descriptor,
                    stripeCount: located.layout.stripeCount,
                    ciphertextLength: located.ciphertextLength!, chunkCount: located.chunkCount!)
                change(&record)
                let offset = head == 2 ? bytes.count - ProtectedBlock.size : Int(located.layout.headBlockOffset(head))
                bytes.replaceSubrange(offset..<(offset + ProtectedBlock.size), with: record.encoded)
            }
            Fixture.store(bytes, at: path)
        }

        // A trillion stripes: the validator must not walk them, the reader must refuse.
        rewriteHeads {
            $0.stripeCount = 1 << 40
            $0.ciphertextLength = 1000
        }
        let started = Date()
        guard case .unrecoverable = try BackupValidator.validate(path: path, threads: 2) else {
            Issue.record("a head claiming 2^40 stripes validated")
            return
        }
        #expect(throws: (any Error).self) { try Fixture.read(path) }
        #expect(Date().timeIntervalSince(started) < 20)

        // Argon2id asking for 64 GiB, or parameters changed within bounds, in every head:
        // the stripe headers outvote the three heads (issue 12), so neither the hostile
        // cost nor the changed parameters are ever used; the data comes back and the
        // heads are reported.
        for kdf in [
            KDFParameters(timeCost: 1, memoryKiB: .max, parallelism: 1),
            KDFParameters(timeCost: 2, memoryKiB: 8192, parallelism: 1),
        ] {
            rewriteHeads { $0.descriptor.kdf = kdf }
            let (back, report) = try Fixture.read(path)
            #expect(back == Fixture.randomBytes(5000, seed: 1))
            #expect(report.headsDamaged == [0, 1, 2])
        }
    }
}
