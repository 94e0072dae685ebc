#if ISAL
internal import CISAL
#endif

/// ISA-L's version as its headers stated it when this binary was built: the library
/// has no run-time version call.
package enum ISALVersion {
    package static var string: String? {
        #if ISAL
        "\(ISAL_MAJOR_VERSION).\(ISAL_MINOR_VERSION).\(ISAL_PATCH_VERSION) (build)"
        #else
        nil
        #endif
    }
}
