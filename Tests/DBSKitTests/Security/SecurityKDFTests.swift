import Testing

@testable import DBSKit
@testable import DBSSecurity

@Suite("Security: Argon2id and its parameter bounds")
struct SecurityKDFTests {
    /// RFC 9106 section 5.3: Argon2id v1.3, 32 KiB, 3 passes, 4 lanes, with a secret and
    /// associated data.
    @Test func rfc9106Vector() throws {
        let tag = try Argon2id.hash(
            password: SecureBytes([UInt8](repeating: 0x01, count: 32)),
            salt: [UInt8](repeating: 0x02, count: 16),
            secret: [UInt8](repeating: 0x03, count: 8),
            associatedData: [UInt8](repeating: 0x04, count: 12),
            parameters: KDFParameters(timeCost: 3, memoryKiB: 32, parallelism: 4),
            outputLength: 32)
        #expect(
            tag.withUnsafeBytes { TestHex.string($0) }
                == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    }

    struct CLIVector: Sendable {
        let passphrase, salt: String
        let parameters: KDFParameters
        let key: String
    }

    /// Produced with the Debian `argon2` command-line tool, e.g.
    /// `echo -n password | argon2 somesaltsomesalt -id -t 2 -k 64 -p 2 -l 32 -r`.
    static let cliVectors = [
        CLIVector(
            passphrase: "password", salt: "somesaltsomesalt",
            parameters: KDFParameters(timeCost: 2, memoryKiB: 64, parallelism: 2),
            key: "c263317d002f84b5342fa66fa169e4bce6a356a13f19193346322ef3522e0702"),
        CLIVector(
            passphrase: "correct horse battery staple", salt: "0123456789abcdef",
            parameters: KDFParameters(timeCost: 1, memoryKiB: 256, parallelism: 4),
            key: "5f7a143e876844aaffe42845cf1136ff7cbb416365dfda5fa18005226bb15f08"),
    ]

    @Test(arguments: cliVectors)
    func matchesTheArgon2Tool(_ vector: CLIVector) throws {
        let key = try Argon2id.deriveKey(
            passphrase: SecureBytes(Array(vector.passphrase.utf8)),
            salt: Array(vector.salt.utf8), parameters: vector.parameters)
        #expect(key.count == 32)
        #expect(key.withUnsafeBytes { TestHex.string($0) } == vector.key)
    }

    /// The defaults (64 MiB, 3 passes, 4 lanes), against the same tool.
    @Test func defaultParameters() throws {
        let key = try Argon2id.deriveKey(
            passphrase: SecureBytes(Array("correct horse battery staple".utf8)),
            salt: Array("0123456789abcdef".utf8), parameters: .default)
        #expect(
            key.withUnsafeBytes { TestHex.string($0) }
                == "efb51f9a76584f6dd6a4f7942a1a2f6ae5a6e4ec5142ff674dfd5d27eb45e446")
    }

    @Test func saltAndPassphraseChangeTheKey() throws {
        let small = KDFParameters(timeCost: 1, memoryKiB: 64, parallelism: 1)
        let salt = [UInt8](repeating: 7, count: 16)
        let key = try Argon2id.deriveKey(passphrase: SecureBytes(Array("a".utf8)), salt: salt, parameters: small)
        let again = try Argon2id.deriveKey(passphrase: SecureBytes(Array("a".utf8)), salt: salt, parameters: small)
        let otherSalt = try Argon2id.deriveKey(
            passphrase: SecureBytes(Array("a".utf8)),
            salt: [UInt8](repeating: 8, count: 16), parameters: small)
        let otherPassphrase = try Argon2id.deriveKey(
            passphrase: SecureBytes(Array("b".utf8)), salt: salt,
            parameters: small)
        #expect(key.constantTimeEquals(again))
        #expect(!key.constantTimeEquals(otherSalt))
        #expect(!key.constantTimeEquals(otherPassphrase))
    }

    @Test func saltMustBe16Bytes() {
        #expect(throws: SecurityError.invalidInput("the Argon2id salt is 16 bytes, got 15")) {
            try Argon2id.deriveKey(
                passphrase: SecureBytes(count: 1), salt: [UInt8](repeating: 0, count: 15),
                parameters: KDFParameters(timeCost: 1, memoryKiB: 8, parallelism: 1))
        }
    }

    @Test func defaultsAndBoundaryValuesAreAccepted() throws {
        #expect(try KDFParameters.default.validated() == .default)
        #expect(KDFParameters.default == KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: 4))
        for p in [
            KDFParameters(timeCost: 1, memoryKiB: 8, parallelism: 1),
            KDFParameters(timeCost: 64, memoryKiB: 4_194_304, parallelism: 64),
            KDFParameters(timeCost: 3, memoryKiB: 512, parallelism: 64),
        ] {
            #expect(try p.validated() == p)
        }
    }

    struct Hostile: Sendable, CustomTestStringConvertible {
        let parameters: KDFParameters
        let named: String
        var testDescription: String { named }
    }

    static let hostile = [
        Hostile(parameters: KDFParameters(timeCost: 0, memoryKiB: 65_536, parallelism: 4), named: "timeCost 0"),
        Hostile(
            parameters: KDFParameters(timeCost: 1_000_000_000, memoryKiB: 65_536, parallelism: 4),
            named: "timeCost 1000000000"),
        Hostile(parameters: KDFParameters(timeCost: 3, memoryKiB: .max, parallelism: 4), named: "memoryKiB 4294967295"),
        Hostile(
            parameters: KDFParameters(timeCost: 3, memoryKiB: 4_194_305, parallelism: 4), named: "memoryKiB 4194305"),
        Hostile(parameters: KDFParameters(timeCost: 3, memoryKiB: 31, parallelism: 4), named: "memoryKiB 31"),
        Hostile(parameters: KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: 0), named: "parallelism 0"),
        Hostile(
            parameters: KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: .max),
            named: "parallelism 4294967295"),
    ]

    @Test(arguments: hostile)
    func hostileParametersAreRefusedByName(_ hostile: Hostile) throws {
        let error = #expect(throws: SecurityError.self) { try hostile.parameters.validated() }
        guard case .kdfParametersOutOfBounds(let message)? = error else {
            Issue.record("expected kdfParametersOutOfBounds, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix(hostile.named + " is outside"), "\(message)")
        // Deriving refuses them too, before allocating anything.
        #expect(throws: SecurityError.kdfParametersOutOfBounds(message)) {
            try Argon2id.deriveKey(
                passphrase: SecureBytes(count: 1), salt: [UInt8](repeating: 0, count: 16),
                parameters: hostile.parameters)
        }
        // And so does parsing them from a head.
        #expect(throws: SecurityError.kdfParametersOutOfBounds(message)) {
            try KDFParameters(bytes: hostile.parameters.bytes)
        }
    }

    @Test func serializedFormRoundTrips() throws {
        let p = KDFParameters(timeCost: 3, memoryKiB: 65_536, parallelism: 4)
        #expect(p.bytes == [0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 4])
        #expect(try KDFParameters(bytes: p.bytes) == p)
        #expect(throws: SecurityError.invalidInput("KDF parameters are 12 bytes, got 11")) {
            try KDFParameters(bytes: p.bytes.dropLast())
        }
    }
}
