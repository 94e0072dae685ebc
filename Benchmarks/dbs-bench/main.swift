// dbs-bench: what the engine does on this machine, and the figures of
// docs/PERFORMANCE.md.
//
//   dbs-bench throughput [--size BYTES] [--threads 1,2] [--backend isal,simd,scalar]
//                        [--data random|text|mixed] [--passes N] [--rss-sizes 1G,4G|none]
//                        [--json] [--plot FILE.svg] [--quick]
//   dbs-bench bitrot     [--size BYTES] [--trials N] [--seed S] [--threads N]
//                        [--json] [--plot FILE.svg] [--quick]
//   dbs-bench rs         [--backends isal,simd,scalar] [--mib 64] [--threads 1,2]
//                        [--passes 5] [--shard 4096] [--ops encode,syndrome,decode]
//   dbs-bench rss        --size BYTES [--threads N]   (the child `throughput` runs)
//   dbs-bench scan       [--size BYTES] [--dir DIR]   (the layout scan on hostile files)
//
// BYTES take a K, M or G suffix (binary units). Arguments are parsed by hand: the
// bench has no dependency beyond DBSKit.

import DBSKit
import DBSSystem

// As the `dbs` tool runs: freed pipeline buffers are reused, not unmapped.
AllocatorTuning.keepFreedMemory()
let arguments = Array(CommandLine.arguments.dropFirst())

func usage() -> Never {
    print(
        """
        usage: dbs-bench throughput [--size BYTES] [--threads 1,2] [--backend isal,simd,scalar]
                                    [--data random|text|mixed] [--passes N] [--rss-sizes 1G,4G|none]
                                    [--json] [--plot FILE.svg] [--quick]
               dbs-bench bitrot [--size BYTES] [--trials N] [--seed S] [--threads N] [--json] [--plot FILE.svg] [--quick]
               dbs-bench rs [--backends isal,simd,scalar] [--mib N] [--threads 1,2] [--passes N] [--shard BYTES] \
        [--ops encode,syndrome,decode]
               dbs-bench rss --size BYTES [--threads N]
               dbs-bench scan [--size BYTES] [--dir DIR]
        """)
    exit(2)
}

guard let mode = arguments.first else { usage() }
let rest = Array(arguments.dropFirst())
do {
    switch mode {
    case "throughput":
        let options: ThroughputBench.Options
        do { options = try ThroughputBench.Options(rest) } catch {
            print("dbs-bench: \(error)")
            usage()
        }
        exit(try ThroughputBench(options: options).run() ? 0 : 1)
    case "bitrot":
        let options: BitrotBench.Options
        do { options = try BitrotBench.Options(rest) } catch {
            print("dbs-bench: \(error)")
            usage()
        }
        // Exit status 1 when any restore returned wrong bytes.
        exit(try BitrotBench(options: options).run() ? 0 : 1)
    case "rs":
        let options: RSBenchOptions
        do { options = try RSBenchOptions(parsing: rest) } catch {
            print("dbs-bench: \(error)")
            usage()
        }
        try RSBench(options: options).run()
    case "rss":
        try RSSProbe.child(rest)
    case "scan":
        let options: ScanBench.Options
        do { options = try ScanBench.Options(rest) } catch {
            print("dbs-bench: \(error)")
            usage()
        }
        exit(try ScanBench(options: options).run() ? 0 : 1)
    default:
        usage()
    }
} catch {
    print("dbs-bench: \(error)")
    exit(3)
}
