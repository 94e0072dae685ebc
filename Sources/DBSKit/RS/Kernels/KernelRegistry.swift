// TEMPORARY: stands in for the kernels helper's registry until that branch lands.
// Every backend is served by the scalar reference kernel.

/// Chooses the bulk kernel for a backend.
package enum KernelRegistry {
    /// The kernel for a backend, or a thrown `backendUnavailable` when it is not built
    /// or not available. A nil backend means `DBS_RS_BACKEND`, else the fastest available.
    static func kernel(for backend: RSBackendKind?) throws(ReedSolomonError) -> any RSKernel {
        ScalarKernel()
    }
}
