// TEMP: minimal stand-in until the codec's ReedSolomonError lands (rs-codec branch).
/// Errors of the Reed-Solomon layer.
public enum ReedSolomonError: Error, Equatable, Sendable {
    /// The backend was asked for but is not built into this binary or cannot run here.
    case backendUnavailable(RSBackendKind)
    /// `DBS_RS_BACKEND` names no backend.
    case unknownBackend(String)
}
