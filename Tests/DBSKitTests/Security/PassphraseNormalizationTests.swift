import DBSTestSupport
import Foundation
import Testing

@testable import DBSKit
@testable import DBSSecurity

/// Issue 12, item 9: a passphrase typed composed (NFC) or decomposed (NFD) is the same
/// passphrase; backups written before normalisation still open with their bytes.
@Suite("Passphrase normalisation")
struct PassphraseNormalizationTests {
    static let composed = "caf\u{E9} cr\u{E8}me br\u{FB}l\u{E9}e"  // NFC
    static let decomposed = "cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e"  // NFD

    static func bytes(_ text: String) -> SecureBytes {
        // The code units as typed: Swift's String equality is canonical, its UTF-8 view is not.
        SecureBytes(Array(text.utf8))
    }

    static func roundTrip(writeWith written: String, readWith read: String, normalizing: Bool = true) throws -> [UInt8]
    {
        let dir = Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(dir) }
        let path = dir + "/b.dbs"
        let data = Fixture.randomBytes(5000, seed: 9)
        let writer = try BackupWriter(
            destination: path, passphrase: bytes(written), options: Fixture.smallOptions(),
            normalizing: normalizing)
        try writer.write(data[...])
        _ = try writer.finish()
        let reader = try BackupReader(path: path, passphrase: bytes(read), threads: 2)
        var out = [UInt8]()
        while try reader.read(into: &out, maxLength: 1 << 16) > 0 {}
        #expect(out == data)
        return out
    }

    @Test func theFormsDifferAsBytes() {
        #expect(Array(Self.composed.utf8) != Array(Self.decomposed.utf8))
        #expect(PassphraseNormalization.nfcVariant(of: Self.bytes(Self.composed)) == nil)
        let nfc = PassphraseNormalization.nfcVariant(of: Self.bytes(Self.decomposed))
        #expect(nfc.map { $0.withUnsafeBytes { Array($0) } } == Array(Self.composed.utf8))
        // Not UTF-8: used as given.
        #expect(PassphraseNormalization.nfcVariant(of: SecureBytes([0xFF, 0xFE, 0x41])) == nil)
    }

    @Test func composedAndDecomposedOpenEachOther() throws {
        _ = try Self.roundTrip(writeWith: Self.decomposed, readWith: Self.composed)
        _ = try Self.roundTrip(writeWith: Self.composed, readWith: Self.decomposed)
    }

    /// Written before normalisation with the decomposed bytes: the same bytes still open
    /// it (the reader tries them after the NFC form).
    @Test func anOlderUnnormalisedBackupStillOpens() throws {
        _ = try Self.roundTrip(writeWith: Self.decomposed, readWith: Self.decomposed, normalizing: false)
    }

    @Test func aWrongPassphraseIsStillWrong() throws {
        #expect(throws: BackupError.self) { try Self.roundTrip(writeWith: Self.decomposed, readWith: "caf\u{E9}") }
    }
}
