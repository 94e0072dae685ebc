import DBSTestSupport
import Foundation
import Testing

@testable import DBSIntegrity
@testable import DBSKit

/// Damage that mixes a wrecked run in one copy with sparse bit rot in both: the
/// shards under the run are bad in both copies, and there the copies disagree at
/// every byte, so disagreements alone exceed the parity. The repair's later rounds
/// (one copy's bytes as candidates, verified shards trusted) must heal it, and must
/// still refuse what is truly beyond repair.
@Suite("Damage: wrecked runs combined with bit rot")
struct DamageMixedTests {
    typealias Sample = DamageTests.Sample

    @Test func zeroedRunInCopyAWithBitRotInBoth() throws {
        let sample = try DamageTests.defaultSample(seed: 41)
        defer { sample.cleanup() }
        // 64 shards of stripe 0 wrecked in copy A (the demo's damage); about a quarter
        // of their twins in copy B carry a flipped bit too: more than 16 shards bad in
        // both copies.
        let a = sample.info.copyExtents[0]
        DamageTests.zero(sample.path, offset: a.offset + 300_000, length: 262_144)
        #expect(DamageTests.flipBits(sample.path, rate: 1e-5, seed: 41) > 0)
        let report = try DamageTests.expectExact(sample)
        #expect(report.healed)
        #expect(report.totalBytesCorrected > 0, "copy B's flipped bytes were corrected under copy A's run")
    }

    @Test func zeroedRunInCopyBWithBitRotInBoth() throws {
        let sample = try DamageTests.defaultSample(seed: 42)
        defer { sample.cleanup() }
        let b = sample.info.copyExtents[1]
        DamageTests.zero(sample.path, offset: b.offset + 1_100_000, length: 400_000)
        #expect(DamageTests.flipBits(sample.path, rate: 2e-5, seed: 42) > 0)
        let report = try DamageTests.expectExact(sample)
        #expect(report.healed)
    }

    @Test func runsInBothCopiesOverlappingOneStripeWithBitRot() throws {
        let sample = try DamageTests.defaultSample(seed: 43)
        defer { sample.cleanup() }
        let layout = sample.layout
        // Stripe 1: shards 0..<40 wrecked in copy A, shards 30..<70 in copy B. Shards
        // 30..<40 are wrecked in both (10, within parity); bit rot on top makes more
        // shards bad in both copies, each side of the overlap needing the other copy.
        DamageTests.zero(sample.path, offset: layout.shardOffset(copy: 0, stripe: 1, shard: 0), length: 40 * 4096)
        DamageTests.zero(sample.path, offset: layout.shardOffset(copy: 1, stripe: 1, shard: 30), length: 40 * 4096)
        #expect(DamageTests.flipBits(sample.path, rate: 3e-5, seed: 43) > 0)
        let report = try DamageTests.expectExact(sample)
        #expect(report.healed)
    }

    @Test func wreckedInBothCopiesBeyondParityIsStillRefused() throws {
        let sample = try DamageTests.defaultSample(seed: 44)
        defer { sample.cleanup() }
        let layout = sample.layout
        // 17 shards wrecked in both copies (different garbage in each), plus bit rot:
        // no round can invent 17 shards' worth of data from 16 parity shards.
        for copy in 0..<2 {
            let offset = layout.shardOffset(copy: copy, stripe: 2, shard: 50)
            Fixture.mutate(sample.path) { bytes in
                var rng = SeededGenerator(seed: 900 + UInt64(copy))
                for i in Int(offset)..<(Int(offset) + 17 * 4096) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        _ = DamageTests.flipBits(sample.path, rate: 1e-5, seed: 44)
        try DamageTests.expectRefused(sample, by: .byRepair)
    }

    @Test func validatorAndRepairerAgreeWithTheReader() throws {
        let sample = try DamageTests.defaultSample(seed: 45)
        defer { sample.cleanup() }
        DamageTests.zero(sample.path, offset: sample.info.copyExtents[0].offset + 50_000, length: 300_000)
        _ = DamageTests.flipBits(sample.path, rate: 1e-5, seed: 45)
        guard case .healable = try BackupValidator.validate(path: sample.path, threads: 2) else {
            Issue.record("the validator should call this healable")
            return
        }
        let repaired = sample.directory + "/repaired.dbs"
        let report = try BackupRepairer.repair(source: sample.path, destination: repaired, threads: 2)
        #expect(report.healed)
        #expect(try BackupValidator.validate(path: repaired, threads: 2) == .healthy)
        let (back, _) = try Fixture.read(repaired)
        #expect(back == sample.data)
    }
}

@Suite("Stripe recovery: suspect runs")
struct SuspectRunTests {
    @Test func runsOfSixteenOrMoreAreMarkedAndShorterOnesAreNot() {
        var bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }  // no two neighbours equal
        for i in 10..<26 { bytes[i] = 0 }  // exactly 16
        for i in 40..<55 { bytes[i] = 0xFF }  // 15: not suspect
        for i in 180..<200 { bytes[i] = 7 }  // 20, running to the end
        let mask = StripeRecovery.constantRuns(in: bytes, 0..<200)
        #expect(mask.indices.filter { mask[$0] } == Array(10..<26) + Array(180..<200))
        // A sub-range sees only its own bytes: 5 of the 16 zeros are not a run.
        #expect(StripeRecovery.constantRuns(in: bytes, 21..<60).allSatisfy { !$0 })
    }
}
