import DBSSystem

/// Chooses the Reed-Solomon kernel: an explicit request, else the `DBS_RS_BACKEND`
/// environment variable, else the fastest backend this binary carries on this machine
/// (measured once per process: ``BackendCalibration``).
package enum KernelRegistry {
    /// The environment variable that overrides the default backend.
    package static let environmentVariable = "DBS_RS_BACKEND"

    /// Backends built into this binary that run on this CPU, in order of preference
    /// when the calibration finds them equally fast.
    package static var available: [RSBackendKind] {
        var kinds: [RSBackendKind] = []
        #if ISAL
        kinds.append(.isal)  // ISA-L dispatches to the best code this CPU runs.
        #endif
        kinds.append(.simd)
        kinds.append(.scalar)
        return kinds
    }

    /// The backend a code built without an explicit one gets, and why:
    /// `DBS_RS_BACKEND` if set, else the calibrated choice.
    ///
    /// Throws `.unknownBackend` for a variable naming no backend and
    /// `.backendUnavailable` for a backend this binary lacks.
    package static func defaultChoice() throws(ReedSolomonError) -> BackendChoice {
        try defaultChoice(environmentValue: getenv(environmentVariable).map { String(cString: $0) })
    }

    /// ``defaultChoice()`` with the variable's value passed in (nil: unset).
    static func defaultChoice(environmentValue: String?) throws(ReedSolomonError) -> BackendChoice {
        guard let value = environmentValue, !value.isEmpty else { return calibrated }
        guard let named = RSBackendKind(rawValue: value.lowercased()) else { throw .unknownBackend(value) }
        guard available.contains(named) else { throw .backendUnavailable(named) }
        return BackendChoice(kind: named, reason: "\(environmentVariable)=\(value)")
    }

    /// The fastest of the non-reference backends, measured at first use.
    static let calibrated = BackendCalibration.choose(among: available.filter { $0 != .scalar })

    /// The kernel for `backend`; for nil, the ``defaultChoice()``.
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
    static func kernel(
        for backend: RSBackendKind?,
        environmentValue: String?
    ) throws(ReedSolomonError) -> any RSKernel {
        let kind: RSBackendKind
        if let backend { kind = backend } else { kind = try defaultChoice(environmentValue: environmentValue).kind }
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
