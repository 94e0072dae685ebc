// The one import of the C library in the package. Every other file that calls the C
// library imports DBSSystem instead, so that the list of platforms is written once and
// a port to a new one is a compile error here, not a missing symbol in twenty files.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#else
#error("unsupported platform")
#endif
