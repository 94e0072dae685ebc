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
        /// Why that backend: `DBS_RS_BACKEND=...`, or the first-use calibration's figures.
        var rsBackendReason: String
        var rsBackendsAvailable: [String]
        /// The encode kernel ISA-L's dispatcher picks here, where it can be asked (arm64).
        var isalKernel: String?
        var architecture: String
        var cpu: String
        var cpuFeatures: [String]
    }

    func execute() throws {
        let choice = try KernelRegistry.defaultChoice()
        let cpu = CPUFeatures.current
        let report = Report(
            version: DBSKitVersion.string,
            rsBackend: choice.kind.rawValue,
            rsBackendReason: choice.reason,
            rsBackendsAvailable: KernelRegistry.available.map(\.rawValue),
            isalKernel: ISALDispatch.encodeKernel,
            architecture: cpu.architecture,
            cpu: cpu.model,
            cpuFeatures: cpu.simdFeatures)
        if json {
            try printJSON(report)
        } else {
            print("dbs \(report.version)")
            print(
                "Reed-Solomon backend: \(report.rsBackend) (available: \(report.rsBackendsAvailable.joined(separator: ", ")))"
            )
            print("  chosen: \(report.rsBackendReason)")
            if let kernel = report.isalKernel { print("  ISA-L's dispatcher picks \(kernel) on this CPU") }
            print("CPU: \(report.architecture), \(report.cpu); features: \(report.cpuFeatures.joined(separator: " "))")
        }
    }
}
