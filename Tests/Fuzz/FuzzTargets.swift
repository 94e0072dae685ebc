import Foundation

// Coverage-guided fuzz targets for libFuzzer (issue 12): the decoders a hostile backup
// file reaches first. Not part of DBSKit: scripts/fuzz.sh compiles this file together
// with DBSKit's sources into one instrumented executable (`swiftc -sanitize=fuzzer,
// address`), so the targets see the engine's internal types without widening its
// public surface. The target is chosen by DBS_FUZZ_TARGET:
//
//   head    a head body: Head(body:), through the protected-block codec
//   stripe  a stripe-header body: StripeHeader(body:), through the same codec
//   file    a whole small file: layout scan, locator, descriptor election, then the
//           passphrase-less validator (stripe recovery, column rounds); the inspector
//           adds nothing the locator does not run and is left to FuzzReaderTests
//   entry   a payload entry header: EntryHeaderCoding.decode
//
// Any trap, sanitizer report or broken invariant (checked with `fuzzCheck`, which
// aborts so libFuzzer saves the input) is a bug. DBS_FUZZ_SEEDS=<dir> writes the seed
// corpus (small backups the engine itself writes, and their heads, stripe headers and
// entry headers) instead of fuzzing.

enum FuzzTarget: String {
    case head, stripe, file, entry

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["DBS_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fuzzLog("DBS_FUZZ_TARGET must be one of head, stripe, file, entry (got \"\(name)\")\n")
            exit(2)
        }
        return target
    }()
}

/// A line on standard error (libFuzzer's own output goes there too).
func fuzzLog(_ line: String) {
    FileHandle.standardError.write(Data(line.utf8))
}

/// An invariant the decoders promise; a violation aborts (libFuzzer keeps the input).
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fuzzLog("fuzz invariant broken: \(message())\n")
        abort()
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["DBS_FUZZ_SEEDS"] {
        do {
            try FuzzSeeds.write(to: directory)
        } catch {
            fuzzLog("writing the seed corpus failed: \(error)\n")
            exit(1)
        }
        exit(0)
    }
    _ = FuzzTarget.selected
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.selected {
    case .head: FuzzDecoders.head(input)
    case .stripe: FuzzDecoders.stripe(input)
    case .file: FuzzDecoders.file(input)
    case .entry: FuzzDecoders.entry(input)
    }
    return 0
}
