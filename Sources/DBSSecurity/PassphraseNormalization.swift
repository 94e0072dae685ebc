/// One passphrase, one key, however the text was typed (RFC 8265's OpaqueString profile
/// treats passwords the same way): a passphrase that is UTF-8 text is normalised to
/// Unicode NFC before Argon2id. "é" typed as one code point (NFC, most keyboards) and as
/// "e" + a combining acute (NFD, as some systems produce) are then the same passphrase.
///
/// Backups written before normalisation used the bytes as given. A reader therefore
/// tries the NFC form first and, only if it does not open the key and differs from the
/// bytes given, the bytes as given. Bytes that are not UTF-8 are used as they are.
///
/// The NFC form is computed through a Swift `String`, whose storage is not wiped; the
/// result is moved into `SecureBytes` at once. It is the standard library's own NFC
/// (`_nfcCodeUnits`, what String comparison uses), not Foundation's
/// `precomposedStringWithCanonicalMapping`: on Linux that one pulls ICU and the rest of
/// Foundation into every statically linked client, which tripled libDBSC (25 to 75 MB).
package enum PassphraseNormalization {
    /// The NFC form of `passphrase` when it is UTF-8 text whose NFC form differs from
    /// it; nil when it is already NFC or not UTF-8.
    package static func nfcVariant(of passphrase: SecureBytes) -> SecureBytes? {
        let normalized: [UInt8]? = passphrase.withUnsafeBytes { raw in
            guard let text = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else { return nil }
            let nfc = Array(text._nfcCodeUnits)
            return nfc.elementsEqual(raw) ? nil : nfc
        }
        return normalized.map { SecureBytes($0) }
    }

    /// The bytes a writer derives its key from: the NFC form when there is one.
    package static func forWriting(_ passphrase: SecureBytes) -> SecureBytes {
        nfcVariant(of: passphrase) ?? passphrase
    }

    /// The forms a reader tries, in order: NFC first (what writers use now), then the
    /// bytes as given (backups from before normalisation).
    package static func forReading(_ passphrase: SecureBytes) -> [SecureBytes] {
        guard let nfc = nfcVariant(of: passphrase) else { return [passphrase] }
        return [nfc, passphrase]
    }
}
