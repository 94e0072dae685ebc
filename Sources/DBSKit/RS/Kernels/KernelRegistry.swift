#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Chooses the Reed-Solomon kernel: an explicit request, else the `DBS_RS_BACKEND`
/// environment variable, else the fastest backend this binary carries.
package enum KernelRegistry {
    /// The environment variable that overrides the default backend.
    package static let environmentVariable = "DBS_RS_BACKEND"

    /// Backends built into this binary that run on this CPU, fastest first.
    package static var available: [RSBackendKind] {
        var kinds: [RSBackendKind] = []
        #if ISAL
        kinds.append(.isal)  // ISA-L dispatches to the best code this CPU runs.
        #endif
        kinds.append(.simd)
        kinds.append(.scalar)
        return kinds
    }

    /// The kernel for `backend`; for nil, the one `DBS_RS_BACKEND` names
    /// (`isal`, `simd` or `scalar`), else the fastest available.
    ///
    /// Throws `.unknownBackend` for a variable naming no backend and
    /// `.backendUnavailable` for a backend this binary lacks: a wrong setting is an
    /// error, not a silent fallback.
    package static func kernel(for backend: RSBackendKind?) throws(ReedSolomonError) -> any RSKernel {
        let setting = getenv(environmentVariable).map { String(cString: $0) }
        return try kernel(for: backend, environmentValue: setting)
    }

    /// ``kernel(for:)`` with the variable's value passed in (nil: unset), so that tests
    /// can check every setting without changing the process environment under other
    /// tests running in parallel.
    static func kernel(for backend: RSBackendKind?,
                       environmentValue: String?) throws(ReedSolomonError) -> any RSKernel {
        let kind: RSBackendKind
        if let backend {
            kind = backend
        } else if let value = environmentValue, !value.isEmpty {
            guard let named = RSBackendKind(rawValue: value.lowercased()) else {
                throw .unknownBackend(value)
            }
            kind = named
        } else {
            kind = available[0]
        }
        guard available.contains(kind) else { throw .backendUnavailable(kind) }
        switch kind {
        case .isal:
            #if ISAL
            return ISALKernel()
            #else
            throw .backendUnavailable(.isal)
            #endif
        case .simd: return SIMDKernel()
        case .scalar: return ScalarKernel()
        }
    }
}
