import DBSSecurity
import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

@Suite("Integrity: per-shard checksums (XXH3-128, BLAKE2b-128)")
struct ChecksumTests {
    /// Byte i is (31 i + 7) mod 256.
    static func input(_ length: Int) -> [UInt8] { (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    /// (length, `xxhsum -H2`, `b2sum -l 128`) of `input(length)`, computed with those
    /// tools; the lengths cross every size class of XXH3's code paths.
    static let vectors: [(Int, String, String)] = [
        (0, "99aa06d3014798d86001c324468d497f", "cae66941d9efbd404e4d88758ea67670"),
        (1, "495b62073ef70ca44c5cca45d0f4811f", "5fef29fe05e030ddcf820ede28562818"),
        (3, "46f66cb93538156515f7093b173d005c", "31440c7683f6e4eef43903e730e9483b"),
        (4, "7fefeeffb4d0eab3b987ca5d9241572a", "7e7dbe9fd46c3bb2cd37f70bf239f8e5"),
        (8, "803c675a846cc6c256bb836ceb6d4baa", "b61549cd62c386dfcd253fe4ca8fc695"),
        (9, "d46556872d230f224376673580310154", "5765618d2e538af5f9cb8d8503b4440b"),
        (16, "650fe308c566747df853dd94614dfa07", "f9f1b97418511edf7e529d50fe860346"),
        (17, "18217300b5132d5a78c349fe81b2f26c", "8d312161fc5d095ab8a06533cbfd4d41"),
        (128, "b4f87b99d2db8a511e04fad9f0cacb4d", "44dca78cecea061046dbccca1749496d"),
        (129, "6881633650cd8924c51bc887976aef63", "5ba99ba0711c084704cc7975de674bbc"),
        (240, "de57aab31e77a2ff93e173833f75ab66", "dedfa0943e349d25f10ec6833d998dc5"),
        (241, "92b991a7192f3f080b3b630948ce4a00", "b19bbe44c7df508ef1a13fbc325d9966"),
        (1024, "4c17271c906df79223bc880ebf0d29c6", "484779325964c7cbd6a968a2f50a971d"),
        (4096, "49d3842b33d51e8aa3c19f8174cde0bb", "bf2e31a8ee913143fa6b0abfa755bcb6"),
        (100_000, "8ce7a24d31cd94b1ccf90df7e7e37036", "ad5fc384027491ebaf9afe75cfa69cd7"),
    ]

    @Test func knownAnswers() {
        for (length, xxh3, blake2b) in Self.vectors {
            let bytes = Self.input(length)
            #expect(ChecksumAlgorithm.xxh3_128.digest(bytes).description == xxh3, "xxh3, length \(length)")
            #expect(ChecksumAlgorithm.blake2b_128.digest(bytes).description == blake2b, "blake2b, length \(length)")
        }
        // "abc", as xxhsum -H2 prints it.
        #expect(ChecksumAlgorithm.xxh3_128.digest(Array("abc".utf8)).description == "06b05ab6733a618578af5f94892f3950")
    }

    /// BLAKE2b with digest_size 16 from Python's hashlib (its own implementation), on
    /// random inputs of random lengths.
    @Test func blake2bMatchesPythonHashlib() throws {
        var generator = SystemRandomNumberGenerator()
        let inputs = try (0..<40).map { i in
            try SecureRandom.bytes(i < 10 ? i * 31 : Int.random(in: 0...20_000, using: &generator))
        }
        let script =
            "import sys, hashlib\nfor line in sys.stdin:\n"
            + "    print(hashlib.blake2b(bytes.fromhex(line.strip()), digest_size=16).hexdigest())\n"
        let expected = try runPython(script, input: inputs.map { TestHex.string($0) }.joined(separator: "\n") + "\n")
        #expect(expected.count == inputs.count)
        for (input, digest) in zip(inputs, expected) {
            #expect(ChecksumAlgorithm.blake2b_128.digest(input).description == digest, "length \(input.count)")
        }
    }

    @Test func allInputFormsAgree() {
        let bytes = Self.input(5000)
        for algorithm in ChecksumAlgorithm.allCases {
            let whole = algorithm.digest(bytes)
            #expect(algorithm.digest(bytes[...]) == whole)
            #expect(bytes.withUnsafeBytes { algorithm.digest($0) } == whole)
            // A slice hashes only its own bytes.
            #expect(algorithm.digest(bytes[100..<200]) == algorithm.digest(Array(bytes[100..<200])))
            var flipped = bytes
            flipped[2500] ^= 0x04
            #expect(algorithm.digest(flipped) != whole)
        }
        #expect(ChecksumAlgorithm.xxh3_128.digest(bytes) != ChecksumAlgorithm.blake2b_128.digest(bytes))
    }

    @Test func checksumBytesRoundTrip() {
        let sum = ChecksumAlgorithm.xxh3_128.digest(Array("abc".utf8))
        #expect(sum.bytes == TestHex.bytes("06b05ab6733a618578af5f94892f3950"))
        #expect(Checksum128(bytes: sum.bytes) == sum)
        #expect(sum.high == 0x06b0_5ab6_733a_6185 && sum.low == 0x78af_5f94_892f_3950)
        var header: [UInt8] = [0xFF]
        sum.append(to: &header)
        #expect(header == [0xFF] + sum.bytes)
        #expect(Checksum128(bytes: header[1...]) == sum)
    }

    @Test func namesAndRawValuesAreStable() {
        #expect(ChecksumAlgorithm.xxh3_128.rawValue == 1 && ChecksumAlgorithm.blake2b_128.rawValue == 2)
        #expect(ChecksumAlgorithm(name: "xxh3") == .xxh3_128)
        #expect(ChecksumAlgorithm(name: "blake2b") == .blake2b_128)
        #expect(ChecksumAlgorithm(name: "md5") == nil)
        #expect(ChecksumAlgorithm(rawValue: 0) == nil && ChecksumAlgorithm(rawValue: 3) == nil)
    }

    /// Runs `python3 -c script` with `input` on stdin; the lines it prints.
    private func runPython(_ script: String, input: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let watchdog = Watchdog(pid: process.processIdentifier)
        // On another thread: the output pipe may fill before the input is all read.
        ChildInput.feed(Data(input.utf8), into: stdin)
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        watchdog.wait(for: process, "the Python checksum reference")
        #expect(process.terminationStatus == 0)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
