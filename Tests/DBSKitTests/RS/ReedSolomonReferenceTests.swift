import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit
@testable import DBSReedSolomon

/// Known-answer vectors from an independent implementation: Tests/Reference/rs_reference.py
/// (pure Python, shift-and-add field arithmetic, polynomial long division), run here with
/// `python3`. Without python3 these tests fail: the vectors are the point.
@Suite("Reed-Solomon known answers")
struct ReedSolomonReferenceTests {
    static let script = RepositoryPaths.file("Tests/Reference/rs_reference.py")

    /// The n shards of the reference's stripe for (k, m, S, seed), data then parity.
    static func referenceStripe(k: Int, m: Int, s: Int, seed: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "\(k)", "\(m)", "\(s)", "\(seed)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let watchdog = Watchdog(pid: process.processIdentifier)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        watchdog.wait(for: process, "the Python Reed-Solomon reference")
        try #require(process.terminationStatus == 0, "python3 \(script.path) failed (is python3 installed?)")
        let lines = try #require(String(data: data, encoding: .utf8)).split(separator: "\n")
        try #require(lines.count == k + m, "reference printed \(lines.count) shards, expected \(k + m)")
        var stripe: [UInt8] = []
        for line in lines {
            try #require(line.count == 2 * s)
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                stripe.append(try #require(UInt8(line[index..<next], radix: 16)))
                index = next
            }
        }
        return stripe
    }

    /// Compares two stripes, naming the first differing shard and column (not dumping both).
    static func expectSame(
        _ actual: [UInt8], _ expected: [UInt8], shardLength s: Int, _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.count == expected.count, "\(label): lengths", sourceLocation: sourceLocation)
        let differing = actual.indices.filter { $0 < expected.count && actual[$0] != expected[$0] }
        if let i = differing.first {
            Issue.record(
                """
                \(label): \(differing.count) bytes differ, first at shard \(i / s) column \(i % s): \
                \(actual[i]) != reference \(expected[i])
                """, sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: RSBackendKind.allCases)
    func rs255_239MatchesTheReference(backend: RSBackendKind) throws {
        guard let code = try makeCode(dataShards: 239, parityShards: 16, backend: backend) else { return }
        for (s, seed) in [(1, 1), (4, 2), (7, 3)] {
            let expected = try Self.referenceStripe(k: 239, m: 16, s: s, seed: seed)
            var stripe = expected
            stripe.replaceSubrange((239 * s)..., with: repeatElement(0, count: 16 * s))
            try code.encode(stripe: &stripe, shardLength: s)
            Self.expectSame(stripe, expected, shardLength: s, "RS(255,239) S=\(s) seed=\(seed)")
        }
    }

    @Test(arguments: RSBackendKind.allCases)
    func smallAndExtremeShapesMatchTheReference(backend: RSBackendKind) throws {
        for (k, m, s) in [(1, 1, 3), (3, 2, 5), (1, 254, 1), (254, 1, 2), (10, 6, 4)] {
            guard let code = try makeCode(dataShards: k, parityShards: m, backend: backend) else { return }
            let expected = try Self.referenceStripe(k: k, m: m, s: s, seed: k * 1000 + m)
            var stripe = expected
            stripe.replaceSubrange((k * s)..., with: repeatElement(0, count: m * s))
            try code.encode(stripe: &stripe, shardLength: s)
            Self.expectSame(stripe, expected, shardLength: s, "k=\(k) m=\(m) S=\(s)")
        }
    }

    @Test func referenceIsNotTrivial() throws {
        // Guards the guard: the reference must produce non-zero parity, and a different
        // seed different data, or the comparisons above would prove nothing.
        let a = try Self.referenceStripe(k: 3, m: 2, s: 4, seed: 1)
        let b = try Self.referenceStripe(k: 3, m: 2, s: 4, seed: 2)
        #expect(a != b)
        #expect(a[12...].contains { $0 != 0 })
    }
}
