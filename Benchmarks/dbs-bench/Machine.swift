import DBSKit
import DBSSystem

/// What a figure was measured on: the CPU, its SIMD features, the RS backends this
/// binary carries, the C libraries' versions, the load when the run started.
struct Machine: Codable {
    var architecture: String
    var model: String
    var simdFeatures: [String]
    var cores: Int
    var backends: [String]
    var defaultBackend: String
    var defaultBackendReason: String
    var libraries: [String: String]
    var loadAverage: String
    var date: String

    static func current() -> Machine {
        let cpu = CPUFeatures.current
        let libraries = LibraryVersions.current
        let choice = try? KernelRegistry.defaultChoice()
        return Machine(
            architecture: cpu.architecture, model: cpu.model, simdFeatures: cpu.simdFeatures,
            cores: BackupOptions.coreCount, backends: KernelRegistry.available.map(\.rawValue),
            defaultBackend: choice?.kind.rawValue ?? "none", defaultBackendReason: choice?.reason ?? "none",
            libraries: [
                "isa-l": libraries.isal ?? "absent", "openssl": libraries.openssl, "zstd": libraries.zstd,
                "xxhash": libraries.xxhash, "argon2": libraries.argon2, "libb2": libraries.blake2,
            ],
            loadAverage: Self.loadAverage(), date: Self.utcNow())
    }

    var text: String {
        """
        cpu: \(architecture), \(model), SIMD \(simdFeatures.joined(separator: " ")), \(cores) cores
        rs backends: \(backends.joined(separator: ", ")) (default \(defaultBackend): \(defaultBackendReason))\(isalKernel)
        libraries: \(LibraryVersions.current)
        load average at start: \(loadAverage); \(date)
        """
    }

    /// ISA-L's encode kernel on this CPU, where its dispatcher can be asked (arm64).
    private var isalKernel: String {
        ISALDispatch.encodeKernel.map { "\nisa-l encode kernel: \($0) (its dispatcher's choice)" } ?? ""
    }

    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { format2($0) }.joined(separator: " ")
    }

    static func utcNow() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ x: Int32) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }
}

func format2(_ x: Double) -> String {
    let scaled = Int((x * 100).rounded())
    let fraction = scaled % 100
    return "\(scaled / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
}
