import DBSSystem

/// What the processor offers the Reed-Solomon kernels, for `dbs version` and the
/// benchmark to print next to the active backend (a figure means little without it).
///
/// On Linux the sources are `/proc/cpuinfo` and, on arm64, the kernel's hardware
/// capability bits (`AT_HWCAP`, `AT_HWCAP2` in `/proc/self/auxv`). On arm64 the bits
/// win: they are what ISA-L's dispatcher reads (`getauxval(AT_HWCAP)`) to choose its
/// SVE2, SVE or NEON kernels, and under qemu user-mode emulation they describe the
/// emulated CPU while `/proc/cpuinfo` is the host's (an x86-64 text without a
/// `Features` line). A cpuinfo text written for another architecture is recognised as
/// such (``cpuinfoIsForeign``) and its model name is not reported as this CPU's.
/// Elsewhere only the architecture is known and the other fields stay empty.
public struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
    /// `x86_64`, `arm64`, or `unknown`.
    public let architecture: String
    /// The model the kernel reports: `model name` on x86-64; on arm64, which has no
    /// such line, the core named from `CPU implementer` and `CPU part`.
    package let modelName: String?
    /// The SIMD features relevant to the kernels, in a fixed order: on x86-64
    /// `sse4.2`, `avx2`, `avx512f`, `avx512bw`, `gfni`; on arm64 `neon`, `pmull`,
    /// `sve`, `sve2`.
    public let simdFeatures: [String]
    /// Whether `/proc/cpuinfo` described another architecture than the one running
    /// (user-mode emulation: qemu shows the host's file).
    package let cpuinfoIsForeign: Bool

    /// The features of the processor running this code, read once.
    public static let current = CPUFeatures(
        cpuinfo: readFile("/proc/cpuinfo", limit: 65536).map { String(decoding: $0, as: UTF8.self) } ?? "",
        architecture: compiledArchitecture,
        auxiliaryVector: readFile("/proc/self/auxv", limit: 4096).map(AuxiliaryVector.init(bytes:)))

    /// The model for printing: its name, `unknown`, or why it is unknown.
    public var model: String {
        modelName ?? (cpuinfoIsForeign ? "unknown (/proc/cpuinfo is another architecture's: emulated?)" : "unknown")
    }

    /// One line: `x86_64, AMD EPYC, sse4.2 avx2`.
    public var description: String {
        var parts = [architecture]
        if modelName != nil || cpuinfoIsForeign { parts.append(model) }
        parts.append(simdFeatures.isEmpty ? "no SIMD features known" : simdFeatures.joined(separator: " "))
        return parts.joined(separator: ", ")
    }

    /// Parses the text of `/proc/cpuinfo` (the first processor's block suffices) and,
    /// on arm64, the auxiliary vector's capability bits when given.
    init(cpuinfo: String, architecture: String, auxiliaryVector: AuxiliaryVector? = nil) {
        self.architecture = architecture
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            // The first processor's block ends at the first blank line.
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) && !fields.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces()
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingSpaces() }
        }
        func words(_ key: String) -> Set<String> { Set((fields[key] ?? "").split(separator: " ").map(String.init)) }
        switch architecture {
        case "x86_64":
            cpuinfoIsForeign = !cpuinfo.isEmpty && fields["flags"] == nil
            modelName = cpuinfoIsForeign ? nil : fields["model name"]
            let flags = words("flags")
            simdFeatures = [
                ("sse4_2", "sse4.2"), ("avx2", "avx2"), ("avx512f", "avx512f"),
                ("avx512bw", "avx512bw"), ("gfni", "gfni"),
            ]
            .filter { flags.contains($0.0) }.map(\.1)
        case "arm64":
            cpuinfoIsForeign = !cpuinfo.isEmpty && fields["Features"] == nil && fields["CPU implementer"] == nil
            modelName =
                cpuinfoIsForeign
                ? nil
                : ARM64Cores.name(
                    implementer: fields["CPU implementer"],
                    part: fields["CPU part"])
            let named: [(name: String, flag: String)] = [
                ("neon", "asimd"), ("pmull", "pmull"), ("sve", "sve"), ("sve2", "sve2"),
            ]
            if let vector = auxiliaryVector, let hwcap = vector.hwcap {
                let hwcap2 = vector.hwcap2 ?? 0
                // Bits of arch/arm64/include/uapi/asm/hwcap.h.
                let present = [hwcap & 1 << 1, hwcap & 1 << 4, hwcap & 1 << 22, hwcap2 & 1 << 1].map { $0 != 0 }
                simdFeatures = zip(named, present).filter(\.1).map(\.0.name)
            } else {
                let flags = cpuinfoIsForeign ? [] : words("Features")
                simdFeatures = named.filter { flags.contains($0.flag) }.map(\.name)
            }
        default:
            cpuinfoIsForeign = false
            modelName = fields["model name"]
            simdFeatures = []
        }
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

    /// Up to `limit` bytes of a file, or nil where it cannot be read.
    private static func readFile(_ path: String, limit: Int) -> [UInt8]? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}

/// The auxiliary vector the kernel hands a process (`/proc/self/auxv`): pairs of
/// native-endian 64-bit words, type then value, ended by type 0.
struct AuxiliaryVector: Sendable, Equatable {
    var entries: [UInt64: UInt64] = [:]

    static let hwcapType: UInt64 = 16  // AT_HWCAP
    static let hwcap2Type: UInt64 = 26  // AT_HWCAP2

    var hwcap: UInt64? { entries[Self.hwcapType] }
    var hwcap2: UInt64? { entries[Self.hwcap2Type] }

    /// Reads whole pairs up to the terminator; a truncated or garbled file yields
    /// whatever whole pairs precede the damage, never a crash.
    init(bytes: [UInt8]) {
        func word(at offset: Int) -> UInt64 {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        }
        var offset = 0
        while offset + 16 <= bytes.count {
            let type = word(at: offset)
            let value = word(at: offset + 8)
            if type == 0 { break }
            if entries[type] == nil { entries[type] = value }
            offset += 16
        }
    }

    init(entries: [UInt64: UInt64]) { self.entries = entries }
}

/// Names of common arm64 cores from `/proc/cpuinfo`'s `CPU implementer` and `CPU part`
/// (the MIDR fields). Unknown pairs are printed as the raw numbers.
enum ARM64Cores {
    static let implementers: [Int: String] = [
        0x41: "Arm", 0x61: "Apple", 0xc0: "Ampere", 0x48: "HiSilicon",
        0x51: "Qualcomm", 0x4e: "NVIDIA", 0x46: "Fujitsu",
    ]
    /// Arm Ltd's parts (implementer 0x41) and Ampere's own cores.
    static let parts: [Int: [Int: String]] = [
        0x41: [
            0xd03: "Cortex-A53", 0xd05: "Cortex-A55", 0xd07: "Cortex-A57", 0xd08: "Cortex-A72",
            0xd0b: "Cortex-A76", 0xd0c: "Neoverse-N1", 0xd0d: "Cortex-A77", 0xd40: "Neoverse-V1",
            0xd41: "Cortex-A78", 0xd44: "Cortex-X1", 0xd46: "Cortex-A510", 0xd47: "Cortex-A710",
            0xd48: "Cortex-X2", 0xd49: "Neoverse-N2", 0xd4f: "Neoverse-V2", 0xd8e: "Neoverse-N3",
            0xd84: "Neoverse-V3",
        ],
        0xc0: [0xac3: "Ampere-1", 0xac4: "Ampere-1a"],
    ]

    static func name(implementer: String?, part: String?) -> String? {
        guard let implementer, let code = Int(hex: implementer) else { return nil }
        let vendor = implementers[code] ?? "implementer \(implementer)"
        guard let part, let partCode = Int(hex: part) else { return vendor }
        return "\(vendor) \(parts[code]?[partCode] ?? "part \(part)")"
    }
}

extension Int {
    /// `0x41` or `41` as hexadecimal.
    fileprivate init?(hex: String) {
        self.init(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex, radix: 16)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
