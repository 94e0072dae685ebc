import ArgumentParser
import DBSKit
import Foundation

struct BackupCommand: DBSSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up files and directories into one encrypted, self-healing file.",
        discussion: """
            Directories are recursed: regular files, directories (empty ones too) and symlinks \
            (stored as links), with permissions and modification times. INPUT - reads standard \
            input as one entry (named by --name); OUTPUT - writes the backup to standard output. \
            The backup is written beside OUTPUT, read back and verified, and only then renamed \
            into place: a failed backup leaves nothing behind.
            """)

    @Argument(help: ArgumentHelp("The backup file to write, or - for standard output.", valueName: "output"))
    var output: String

    @Argument(help: ArgumentHelp("Files and directories to back up, or - for standard input.", valueName: "input"))
    var inputs: [String]

    @OptionGroup var engine: EngineOptions
    @OptionGroup var passphrase: PassphraseOptions

    @Option(help: "Copies of the data in the file (2, or 1 to halve the size and rely on parity alone).")
    var copies = 2
    @Option(help: "Reed-Solomon parity shards per stripe of 255.") var parity = 16
    @Option(help: "Bytes per shard (one disk sector or page).") var shardSize = 4096
    @Option(help: "Per-shard checksum.") var checksum: ChecksumAlgorithm = .xxh3_128
    @Option(help: "Compression.") var compression: CompressionChoice = .zstd
    @Option(help: "zstd level, -7 to 22 (default 1); with --compression zstd only.") var level: Int32?
    @Option(help: "Argon2id passes.") var kdfTime: UInt32 = KDFParameters.default.timeCost
    @Option(help: "Argon2id memory in KiB.") var kdfMemory: UInt32 = KDFParameters.default.memoryKiB
    @Option(help: "Argon2id lanes.") var kdfParallelism: UInt32 = KDFParameters.default.parallelism
    @Option(help: "The entry name for standard input (INPUT -).") var name = "stdin"
    @Flag(help: "Skip reading the finished file back (verify-after-write is on by default).")
    var noVerify = false
    @Flag(help: "Replace an existing OUTPUT (only ever a regular file).") var force = false
    @Flag(help: "Print one JSON document on stdout.") var json = false
    @Flag(help: "No progress line.") var quiet = false

    struct Report: Encodable {
        var ok = true
        var output: String
        var entries: UInt64
        var inputBytes: UInt64
        var fileSize: UInt64
        var stripes: UInt64
        var seconds: Double
        var verified: Bool
        /// Inputs not in the backup, and inputs stored as they were not at any one
        /// moment (changed while read); `ok` is true only when both are empty.
        var skipped: [Problem] = []
        var changed: [Problem] = []
        /// Entries stored less something (an extended attribute that could not be read).
        var warnings: [Problem] = []
    }

    /// An input and what happened to it; `path_bytes` as in `dbs list --json`: the
    /// exact bytes, base64, where the path is not valid UTF-8.
    struct Problem: Encodable {
        var path: String
        var pathBytes: String?
        var reason: String
        /// Shown escaped in the text summary.
        var shown: String

        init(_ warning: FileTreeWarning) {
            path = warning.path.lossyString
            pathBytes = warning.path.jsonBytes
            reason = warning.message
            shown = warning.path.escaped
        }

        enum CodingKeys: String, CodingKey { case path, pathBytes, reason }
    }

    func validate() throws {
        // Every bound the engine enforces, checked here under the option's own name (a
        // usage error, exit 2), so the engine's own refusal never reaches a user.
        guard copies == 1 || copies == 2 else { throw ValidationError("--copies must be 1 or 2, not \(copies)") }
        guard (1...254).contains(parity) else {
            throw ValidationError("--parity must be between 1 and 254, not \(parity)")
        }
        try Self.require(shardSize, in: BackupOptions.shardSizeLimits, "--shard-size")
        switch (compression, level) {
        case (.zstd, let level?): try Self.require(level, in: BackupOptions.zstdLevels, "--level")
        // The file records no level without compression (a reader refuses one there), so
        // a level given with none would be silently dropped: refused instead.
        case (.none, _?): throw ValidationError("--level applies to --compression zstd only, not none")
        default: break
        }
        let limits = KDFParameters.limits
        try Self.require(kdfTime, in: limits.timeCost, "--kdf-time")
        try Self.require(kdfParallelism, in: limits.parallelism, "--kdf-parallelism")
        try Self.require(
            kdfMemory, in: limits.memoryKiB(parallelism: kdfParallelism), "--kdf-memory",
            why: " (KiB: at least \(limits.minimumMemoryKiBPerLane) per lane of --kdf-parallelism)")
        if inputs.contains("-") {
            guard inputs.count == 1 else { throw ValidationError("standard input (-) must be the only input") }
            do {
                try FileTreeWriter.checkEntryPath(name)
                guard name.utf8.count <= PayloadFormat.maxPathBytes else {
                    throw ValidationError("--name is \(name.utf8.count) bytes, more than \(PayloadFormat.maxPathBytes)")
                }
            } catch let DataError.unsafePath(_, reason) {
                throw ValidationError("--name '\(ListCommand.escaped(name))' could never be restored: \(reason)")
            }
            guard !passphrase.passphraseStdin else {
                throw ValidationError("--passphrase-stdin cannot be used when the data comes from standard input")
            }
        }
        if output == "-" && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("refusing to write a backup to a terminal; redirect standard output")
        }
    }

    func execute() throws {
        let started = Date()
        let toStandardOutput = output == "-"
        if !toStandardOutput && !force && FileManager.default.fileExists(atPath: output) {
            throw CLIFailure(wrapping: BackupError.destinationExists(output))
        }
        if !toStandardOutput, force, let kind = FileSystem.nonRegularKind(output) {
            throw CLIFailure(.io, "\(output) is \(kind), not a regular file; --force only replaces a regular file")
        }
        let stdinEntry = inputs == ["-"]
        if !stdinEntry {
            for input in inputs where !FileSystem.exists(input) {
                throw CLIFailure(.io, "input \(input) does not exist")
            }
        }

        var options = BackupOptions()
        options.threads = try engine.threadCount()
        options.copies = copies
        options.parityShards = parity
        options.dataShards = 255 - parity
        options.shardSize = shardSize
        options.checksum = checksum
        options.compression = compression == .zstd ? .zstd(level: level ?? 1) : .none
        options.kdf = KDFParameters(timeCost: kdfTime, memoryKiB: kdfMemory, parallelism: kdfParallelism)
        options.verifyAfterWrite = !noVerify
        options.overwrite = force
        options = try options.validated()

        let secret = try passphrase.resolve(confirm: true)
        let spool = toStandardOutput ? try PrivateDirectory() : nil
        let destination = spool.map { $0.path + "/backup.dbs" } ?? output

        let total = stdinEntry ? nil : FileSystem.totalSize(of: inputs)
        let progress = ProgressLine(label: "backup", total: total, quiet: quiet || json)
        let backup = try Engine.backUp(
            stdinEntry ? .entries(StandardInputEntry(name: name).write) : .paths(inputs),
            to: destination, passphrase: secret, options: options,
            metadata: ["tool": "dbs \(DBSKitVersion.string)"], progress: progress.advance)
        progress.finish()

        if spool != nil {
            try FileSystem.copy(file: destination, toDescriptor: STDOUT_FILENO)
        }
        func listed(_ kind: FileTreeWarning.Kind) -> [Problem] {
            backup.warnings.filter { $0.kind == kind }.map(Problem.init)
        }
        var report = Report(
            output: output, entries: backup.contents.entryCount, inputBytes: backup.contents.contentBytes,
            fileSize: backup.file.fileBytes, stripes: backup.file.stripes,
            seconds: Date().timeIntervalSince(started), verified: !noVerify)
        report.skipped = listed(.skipped)
        report.changed = listed(.changed)
        report.warnings = listed(.incomplete)
        report.ok = report.skipped.isEmpty && report.changed.isEmpty
        if !json {
            for (label, list) in [
                ("skipped", report.skipped), ("changed while read", report.changed),
                ("warning", report.warnings),
            ] {
                for problem in list { note("dbs: \(label): \(problem.shown): \(ListCommand.escaped(problem.reason))") }
            }
        }
        if json {
            try printJSON(report)
        } else if !quiet {
            note(
                "dbs: backed up \(report.entries) entries, \(formatBytes(report.inputBytes)) into "
                    + "\(toStandardOutput ? "standard output" : output) (\(formatBytes(report.fileSize)), "
                    + "\(copies) copies + \(parity) parity per 255 shards\(noVerify ? "" : ", verified")) "
                    + String(format: "in %.1fs", report.seconds))
        }
        if !report.ok {
            throw CLIFailure(
                .incomplete,
                "backup complete, but \(report.skipped.count) inputs were skipped and "
                    + "\(report.changed.count) changed while read (exit 6)")
        }
    }

    static func require<T: Comparable>(
        _ value: T, in bounds: ClosedRange<T>, _ option: String, why: String = ""
    )
        throws(ValidationError)
    {
        guard bounds.contains(value) else {
            throw ValidationError(
                "\(option) must be between \(bounds.lowerBound) and \(bounds.upperBound)\(why), not \(value)")
        }
    }
}

/// `--compression`: the codecs a backup's chunks may be stored with.
enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
    case zstd, none
}

extension ChecksumAlgorithm: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

/// Options every command that runs the engine takes.
struct EngineOptions: ParsableArguments {
    @Option(help: "Worker threads (default: the number of cores).") var threads: Int?

    /// The engine's limit (`BackupOptions.threadLimits`), the one the C ABI applies too.
    func validate() throws {
        if let threads {
            try BackupCommand.require(threads, in: BackupOptions.threadLimits, "--threads")
        }
    }

    func threadCount() throws -> Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}
