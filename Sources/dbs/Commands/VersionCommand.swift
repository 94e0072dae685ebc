import ArgumentParser
import DBSKit

struct VersionCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, the active Reed-Solomon backend and the CPU features in use.")

    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Report: Encodable {
        var version: String
        var rsBackend: String
        var rsBackendsAvailable: [String]
        var architecture: String
        var cpu: String
        var cpuFeatures: [String]
    }

    func execute() throws {
        let backend = try ReedSolomon(dataShards: 1, parityShards: 1).backend
        let cpu = CPUFeatures.current
        let report = Report(
            version: DBSKitVersion.string,
            rsBackend: backend.rawValue,
            rsBackendsAvailable: KernelRegistry.available.map(\.rawValue),
            architecture: cpu.architecture,
            cpu: cpu.modelName ?? "unknown",
            cpuFeatures: cpu.simdFeatures)
        if json {
            try printJSON(report)
        } else {
            print("dbs \(report.version)")
            print("Reed-Solomon backend: \(report.rsBackend) (available: \(report.rsBackendsAvailable.joined(separator: ", ")))")
            print("CPU: \(report.architecture), \(report.cpu); features: \(report.cpuFeatures.joined(separator: " "))")
        }
    }
}
