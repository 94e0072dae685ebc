#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the processor offers the Reed-Solomon kernels, for `dbs version` and the
/// benchmark to print next to the active backend (a figure means little without it).
///
/// Read from `/proc/cpuinfo` on Linux; elsewhere only the architecture is known and
/// the other fields stay empty.
public struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
    /// `x86_64`, `arm64`, or `unknown`.
    public let architecture: String
    /// The model name the kernel reports, if any.
    public let modelName: String?
    /// The SIMD features relevant to the kernels, in a fixed order: on x86-64
    /// `sse4.2`, `avx2`, `avx512f`, `gfni`; on arm64 `neon`, `sve`.
    public let simdFeatures: [String]

    /// The features of the processor running this code, read once.
    public static let current = CPUFeatures(cpuinfo: readCPUInfo(), architecture: compiledArchitecture)

    /// One line: `x86_64, AMD EPYC, sse4.2 avx2`.
    public var description: String {
        var parts = [architecture]
        if let modelName { parts.append(modelName) }
        parts.append(simdFeatures.isEmpty ? "no SIMD features known" : simdFeatures.joined(separator: " "))
        return parts.joined(separator: ", ")
    }

    /// Parses the text of `/proc/cpuinfo` (the first processor's block suffices).
    init(cpuinfo: String, architecture: String) {
        self.architecture = architecture
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces()
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingSpaces() }
        }
        modelName = fields["model name"] ?? fields["Model"] ?? fields["Hardware"]
        let flags = Set((fields["flags"] ?? fields["Features"] ?? "").split(separator: " ").map(String.init))
        // Names as /proc/cpuinfo spells them, and as we print them.
        let wanted: [(flag: String, name: String)]
        switch architecture {
        case "x86_64":
            wanted = [("sse4_2", "sse4.2"), ("avx2", "avx2"), ("avx512f", "avx512f"), ("gfni", "gfni")]
        case "arm64":
            wanted = [("asimd", "neon"), ("sve", "sve")]
        default:
            wanted = []
        }
        simdFeatures = wanted.filter { flags.contains($0.flag) }.map(\.name)
    }

    static var compiledArchitecture: String {
        #if arch(x86_64)
        "x86_64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    /// The contents of `/proc/cpuinfo`, or "" where it does not exist.
    private static func readCPUInfo() -> String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += buffer[0..<count]
            // The first processor's block is all the parser needs.
            if bytes.count > 65536 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
