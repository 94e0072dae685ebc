import Synchronization
import Testing

@testable import DBSIO
@testable import DBSKit

/// The pipeline's one way to spread work over threads: results in index order for
/// every thread count, each item computed exactly once, per-worker state made once per
/// worker, and no more workers than items.
@Suite("IO: parallel map")
struct ParallelTests {
    @Test(arguments: [1, 2, 3, 4, 7, 8, 16, 64])
    func mapKeepsIndexOrderAndComputesEachItemOnce(threads: Int) {
        for count in [1, 2, 5, 31, 32, 33, 1000] {
            let calls = Atomic<Int>(0)
            let results = Parallel.map(count: count, threads: threads) { i in
                calls.add(1, ordering: .relaxed)
                // Unequal costs, so that workers finish out of order.
                var x = UInt64(i)
                for _ in 0..<((i % 7) * 500) { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }
                return (i, x)
            }
            #expect(results.map(\.0) == Array(0..<count), "\(count) items on \(threads) threads")
            #expect(calls.load(ordering: .relaxed) == count)
        }
    }

    @Test(arguments: [0, 1, 4])
    func zeroItemsRunNothing(threads: Int) {
        let calls = Atomic<Int>(0)
        let states = Atomic<Int>(0)
        let results = Parallel.map(
            count: 0, threads: threads, makeState: { states.add(1, ordering: .relaxed) },
            { _, i in
                calls.add(1, ordering: .relaxed)
                return i
            })
        #expect(results.isEmpty)
        #expect(calls.load(ordering: .relaxed) == 0)
        #expect(states.load(ordering: .relaxed) == 0)
    }

    /// More threads than items: at most one worker (and one state) per item; a thread
    /// count below one still runs everything, on one worker.
    @Test(arguments: [(3, 8), (1, 64), (5, 5), (4, 0), (4, -2)])
    func workersNeverOutnumberItems(count: Int, threads: Int) {
        let states = Atomic<Int>(0)
        let results = Parallel.map(
            count: count, threads: threads,
            makeState: { () -> [Int] in
                states.add(1, ordering: .relaxed)
                return []
            },
            { seen, i in
                seen.append(i)
                return i * i
            })
        #expect(results == (0..<count).map { $0 * $0 })
        let made = states.load(ordering: .relaxed)
        #expect(made >= 1)
        #expect(made <= max(1, min(threads, count)))
    }

    /// Each worker's state carries over its items: the items one worker saw, counted
    /// through its state, add up to every item exactly once.
    @Test func stateIsKeptAcrossAWorkersItems() {
        let count = 200
        let results = Parallel.map(
            count: count, threads: 4, makeState: { 0 },
            { seenBefore, i in
                defer { seenBefore += 1 }
                return (item: i, seenBefore: seenBefore)
            })
        #expect(results.map(\.item) == Array(0..<count))
        // One worker's items are numbered 0, 1, 2... in its state: as many zeros as
        // workers, and the numbers of each worker without gaps.
        let firsts = results.filter { $0.seenBefore == 0 }.count
        #expect((1...4).contains(firsts))
        var perRank = [Int: Int]()
        for result in results { perRank[result.seenBefore, default: 0] += 1 }
        let ranks = perRank.keys.sorted()
        #expect(ranks == Array(0..<ranks.count))
        #expect(zip(ranks, ranks.dropFirst()).allSatisfy { perRank[$0.0]! >= perRank[$0.1]! })
    }

    @Test func roundItemsBalanceAndStayBounded() {
        #expect(Parallel.roundItems(threads: 1) == 4)
        #expect(Parallel.roundItems(threads: 2) == 8)
        #expect(Parallel.roundItems(threads: 8) == 32)
        #expect(Parallel.roundItems(threads: 16) == 32)
        #expect(Parallel.roundItems(threads: 64) == 128)
        for threads in 1...128 { #expect(Parallel.roundItems(threads: threads) >= threads) }
    }
}
