// dbs-bench: throughput figures for docs/PERFORMANCE.md.
//
//   dbs-bench rs [--backends isal,simd,scalar] [--mib 64] [--threads 1,2]
//                [--passes 5] [--shard 4096] [--ops encode,syndrome,decode]
//
// Arguments are parsed by hand: the package carries no argument parser yet.

import DBSKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())

func usage() -> Never {
    print("""
    usage: dbs-bench rs [--backends isal,simd,scalar] [--mib N] [--threads 1,2] \
    [--passes N] [--shard BYTES] [--ops encode,syndrome,decode]
    """)
    exit(2)
}

guard let mode = arguments.first else { usage() }
switch mode {
case "rs":
    do {
        let options = try RSBenchOptions(parsing: Array(arguments.dropFirst()))
        try RSBench(options: options).run()
    } catch {
        print("dbs-bench: \(error)")
        usage()
    }
default:
    usage()
}
