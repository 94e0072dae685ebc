import DBSSystem

/// Which of ISA-L's encode kernels its run-time dispatcher picks on this CPU, where
/// ISA-L lets us ask. Its arm64 build exports `ec_encode_data_dispatcher`, the function
/// the first `ec_encode_data` call runs to choose (from `getauxval(AT_HWCAP)`: SVE2,
/// else SVE, else NEON, else the base C loop), and the kernels themselves; the
/// function it returns is compared with those. ISA-L's x86-64 build keeps its choice
/// in an unexported pointer, so there the answer is nil (a profile shows it: see
/// docs/PERFORMANCE.md).
///
/// Asking the dispatcher has no side effect: it only reads the capability bits.
package enum ISALDispatch {
    /// The exported kernel names the dispatcher may return, best first.
    static let encodeKernels = [
        "ec_encode_data_sve2", "ec_encode_data_sve", "ec_encode_data_neon",
        "ec_encode_data_base",
    ]

    /// `ec_encode_data_sve`, `ec_encode_data_neon`, ...; nil without ISA-L or where the
    /// library does not export its dispatcher.
    package static let encodeKernel: String? = {
        #if ISAL
        guard let process = dlopen(nil, RTLD_NOW) else { return nil }
        defer { dlclose(process) }
        guard let dispatcher = dlsym(process, "ec_encode_data_dispatcher") else { return nil }
        typealias Dispatcher = @convention(c) () -> UnsafeMutableRawPointer?
        guard let chosen = unsafeBitCast(dispatcher, to: Dispatcher.self)() else { return nil }
        return encodeKernels.first { dlsym(process, $0) == chosen } ?? "unknown (not an exported kernel)"
        #else
        return nil
        #endif
    }()
}
