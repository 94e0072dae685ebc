// Static strings: the library's version and the Reed-Solomon backend in use.

import DBSKit
import DBSSystem

/// Built on first use and never freed: the header promises a static string.
/// Immutable after its one-time initialization, so sharing it is safe.
nonisolated(unsafe) private let versionString: UnsafeMutablePointer<CChar>? = strdup(DBSKitVersion.string)

/// The backend a new code picks (DBS_RS_BACKEND, else the fastest available), asked
/// once: a static string per backend, so nothing is allocated.
private let backendName: StaticString = {
    let backend = (try? ReedSolomon(dataShards: 1, parityShards: 1))?.backend
    switch backend {
    case .isal: return "isal"
    case .simd: return "simd"
    case .scalar: return "scalar"
    case nil: return "unavailable"
    }
}()

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_version")
#endif
public func dbs_version() -> UnsafePointer<CChar> {
    guard let versionString else { return staticCString("unknown") }
    return UnsafePointer(versionString)
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_rs_backend")
#endif
public func dbs_rs_backend() -> UnsafePointer<CChar> {
    staticCString(backendName)
}

/// A Swift string literal is stored NUL-terminated in the binary.
func staticCString(_ string: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
}
