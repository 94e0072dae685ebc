/// Why a security operation failed.
///
/// The cases keep apart what the user must be told apart: a wrong passphrase (the key
/// envelope did not open) is not corruption (a payload chunk failed its tag after
/// repair), and neither is a hostile or damaged parameter block.
public enum SecurityError: Error, Equatable, CustomStringConvertible {
    /// The data key did not unwrap: its GCM tag failed under the key derived from the
    /// passphrase. With an intact head this means the passphrase is wrong.
    case wrongPassphrase
    /// A payload chunk failed its GCM tag: the ciphertext, its position or its
    /// final-chunk flag was changed, by corruption that repair could not undo or by
    /// tampering.
    case authenticationFailed(chunkIndex: UInt64)
    /// Key-derivation parameters outside the documented bounds; the message names the
    /// parameter, its value and the bound.
    case kdfParametersOutOfBounds(String)
    /// The system random generator (OpenSSL `RAND_bytes`) failed.
    case randomFailure
    /// An OpenSSL or libargon2 call failed; the message names the operation and the
    /// library's own error text.
    case cryptoFailure(String)
    /// An argument of the wrong size or shape (a 15-byte salt, a 59-byte wrapped key).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .wrongPassphrase:
            return "wrong passphrase: the data key did not unwrap (its authentication tag failed)"
        case .authenticationFailed(let chunkIndex):
            return "payload chunk \(chunkIndex) failed authentication: corrupted or tampered with"
        case .kdfParametersOutOfBounds(let message):
            return "key-derivation parameters out of bounds: \(message)"
        case .randomFailure:
            return "the system random generator failed"
        case .cryptoFailure(let message):
            return "cryptographic operation failed: \(message)"
        case .invalidInput(let message):
            return "invalid input: \(message)"
        }
    }
}
