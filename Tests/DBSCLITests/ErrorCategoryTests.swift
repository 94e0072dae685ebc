import DBSSystem
import Testing

@testable import DBSC
@testable import DBSKit
@testable import dbs

/// Every `BackupError` case: its category, and the codes the two front ends give it
/// (each maps the category once: `ExitStatus.init(_:)` and `Status.of(_:)`). The codes
/// are the ones `dbs` exited with and the C ABI returned when the engine still named
/// the CLI's exit codes itself (`BackupError.exitCode`, then each front end's
/// exceptions); scripts depend on them.
@Suite struct ErrorCategoryTests {
    struct Expected {
        var category: BackupError.Category
        /// `dbs`'s exit status.
        var cli: Int32
        /// The C ABI's `DBS_ERR_*`.
        var cabi: Int32
    }

    /// The expectation for each case: exhaustive, so a new case does not compile until
    /// it has one.
    static func expected(_ error: BackupError) -> (name: String, Expected) {
        switch error {
        case .wrongPassphrase: ("wrongPassphrase", Expected(category: .wrongPassphrase, cli: 3, cabi: 3))
        case .damagedBeyondRepair: ("damagedBeyondRepair", Expected(category: .damaged, cli: 4, cabi: 4))
        case .notABackup: ("notABackup", Expected(category: .unreadable, cli: 1, cabi: 1))
        case .unsupportedVersion: ("unsupportedVersion", Expected(category: .unreadable, cli: 1, cabi: 1))
        case .corruptedChunk: ("corruptedChunk", Expected(category: .damaged, cli: 4, cabi: 4))
        case .corruptedStream: ("corruptedStream", Expected(category: .damaged, cli: 4, cabi: 4))
        case .invalidOptions: ("invalidOptions", Expected(category: .invalidArgument, cli: 2, cabi: 2))
        case .kdfParametersOutOfBounds:
            ("kdfParametersOutOfBounds", Expected(category: .invalidArgument, cli: 2, cabi: 2))
        case .kdfCostAboveCap: ("kdfCostAboveCap", Expected(category: .unreadable, cli: 1, cabi: 1))
        case .io: ("io", Expected(category: .inputOutput, cli: 5, cabi: 5))
        case .destinationExists: ("destinationExists", Expected(category: .inputOutput, cli: 5, cabi: 5))
        case .verificationFailed: ("verificationFailed", Expected(category: .damaged, cli: 4, cabi: 4))
        case .readBackFailed: ("readBackFailed", Expected(category: .damaged, cli: 4, cabi: 4))
        case .writerClosed: ("writerClosed", Expected(category: .misuse, cli: 1, cabi: 1))
        case .internalFailure: ("internalFailure", Expected(category: .internalFailure, cli: 1, cabi: 1))
        }
    }

    /// At least one value of every case (`allCases` checks that none is missing).
    static let samples: [BackupError] = [
        .wrongPassphrase,
        .damagedBeyondRepair(RepairReport()),
        .notABackup("no head, no stripe header"),
        .unsupportedVersion(9),
        .corruptedChunk(index: 3),
        .corruptedStream("chunk 3 has an impossible sealed length 2"),
        .invalidOptions("copies must be 1 or 2"),
        .kdfParametersOutOfBounds("timeCost 0"),
        .kdfCostAboveCap(KDFParameters(timeCost: 9, memoryKiB: 1 << 22, parallelism: 1), .default),
        .io(path: "/backup.dbs", operation: "open", errno: EACCES),
        .io(path: "/backup.dbs", operation: "pwrite", errno: ENOSPC),
        .destinationExists("/backup.dbs"),
        .verificationFailed("the heads did not read back intact"),
        // Whatever the read-back threw, a backup that did not verify is damage (exit 4).
        .readBackFailed(.damagedBeyondRepair(RepairReport())),
        .readBackFailed(.io(path: "/backup.dbs", operation: "pread", errno: EIO)),
        .readBackFailed(.corruptedChunk(index: 0)),
        .writerClosed,
        .internalFailure("sealing chunk 1"),
        .internalFailure("opening the data key", cause: SecurityError.randomFailure),
        .internalFailure(cause: SecurityError.cryptoFailure("EVP_EncryptInit_ex")),
    ]

    static let allCases: Set<String> = [
        "wrongPassphrase", "damagedBeyondRepair", "notABackup", "unsupportedVersion", "corruptedChunk",
        "corruptedStream", "invalidOptions", "kdfParametersOutOfBounds", "kdfCostAboveCap", "io",
        "destinationExists", "verificationFailed", "readBackFailed", "writerClosed", "internalFailure",
    ]

    @Test func everyCaseIsSampled() {
        #expect(Set(Self.samples.map { Self.expected($0).name }) == Self.allCases)
    }

    @Test(arguments: samples)
    func categoryExitStatusAndResultCode(_ error: BackupError) {
        let expected = Self.expected(error).1
        #expect(error.category == expected.category)
        #expect(dbs.ExitStatus(error.category).rawValue == expected.cli)
        #expect(CLIFailure(wrapping: error).status.rawValue == expected.cli)
        #expect(Status.of(error.category) == expected.cabi)
        #expect(Status.of(error, side: .reading) == expected.cabi)
        #expect(Status.of(error, side: .writing) == expected.cabi)
    }

    @Test func everyCategoryHasBothCodes() {
        let cli: [BackupError.Category: dbs.ExitStatus] = [
            .wrongPassphrase: .wrongPassphrase, .damaged: .damaged, .unreadable: .failure, .inputOutput: .io,
            .invalidArgument: .usage, .misuse: .failure, .internalFailure: .failure,
        ]
        #expect(Set(cli.keys) == Set(BackupError.Category.allCases))
        for (category, status) in cli {
            #expect(dbs.ExitStatus(category) == status)
            // The C ABI's codes are the CLI's (include/dbs.h, "Status codes are the CLI's exit codes").
            #expect(Status.of(category) == status.rawValue)
        }
    }

    /// Every `DataError` case (the file tree's: backing up paths, restoring to a
    /// directory) gets the same code from both front ends. The switch is exhaustive,
    /// so a new case does not compile until it has one. A restore target that exists
    /// is 5 in both, as a backup file that exists is (`destinationExists`): the C ABI
    /// returned 1 for it until it took `isInputOutput` as the CLI does.
    static func expectedCode(_ error: DataError) -> Int32 {
        switch error {
        case .missingInput, .io, .fileChanged, .alreadyExists: 5
        case .invalidInput, .duplicateEntry, .unsafePath, .cannotReplace: 1
        }
    }

    static let dataErrors: [DataError] = [
        .missingInput(path: "/srv/gone"),
        .io(path: "/srv/a", operation: "open", errno: EACCES),
        .fileChanged(path: "/srv/log", reason: "it grew by 10 bytes"),
        .invalidInput(path: "/", reason: "the root directory has no name to store"),
        .duplicateEntry(path: "app"),
        .unsafePath(path: "../etc/passwd", reason: "it leaves the destination"),
        .alreadyExists(path: "/restore/app/a.txt"),
        .cannotReplace(path: "/restore/app", reason: "a directory is where the file goes"),
    ]

    @Test(arguments: dataErrors)
    func dataErrorsGetOneCodeFromBothFrontEnds(_ error: DataError) {
        let code = Self.expectedCode(error)
        #expect(CLIFailure(wrapping: error).status.rawValue == code)
        #expect(Status.of(error, side: .reading) == code)
        #expect(Status.of(error, side: .writing) == code)
        #expect(error.isInputOutput == (code == 5))
    }

    /// The error that stands for another keeps it as a value, with the text users saw
    /// when it was flattened into a string.
    @Test func causesAreKeptWithTheSameText() throws {
        let report = RepairReport()
        let readBack = BackupError.readBackFailed(.damagedBeyondRepair(report))
        #expect(
            readBack.description
                == "verify-after-write failed, nothing was written to the destination: "
                + BackupError.damagedBeyondRepair(report).description)
        guard case .readBackFailed(.damagedBeyondRepair(let kept)) = readBack else {
            Issue.record("the read-back's report was not kept")
            return
        }
        #expect(kept.lostShards == report.lostShards)

        let cause = SecurityError.cryptoFailure("EVP_EncryptInit_ex failed")
        let keys = BackupError.internalFailure("setting up the keys", cause: cause)
        #expect(keys.description == "internal failure: setting up the keys: \(cause)")
        #expect(BackupError.internalFailure(cause: cause).description == "internal failure: \(cause)")
        #expect(
            BackupError.internalFailure("chunk 2's frame does not fit its batch buffer").description
                == "internal failure: chunk 2's frame does not fit its batch buffer")
        guard case .internalFailure(_, let underlying?) = keys else {
            Issue.record("the library's error was not kept")
            return
        }
        #expect(underlying as? SecurityError == cause)
    }

    /// The CLI's own wording stays where it replaces the engine's.
    @Test func theCLIsOwnMessages() {
        #expect(
            CLIFailure(wrapping: BackupError.destinationExists("out.dbs")).message
                == "out.dbs already exists; use --force to replace it")
        #expect(
            CLIFailure(wrapping: BackupError.invalidOptions("copies must be 1 or 2")).message
                == "invalid options: copies must be 1 or 2")
    }
}
