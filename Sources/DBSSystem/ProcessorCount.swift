/// How many processors the system has online (`sysconf(_SC_NPROCESSORS_ONLN)`), at
/// least 1: the default number of threads of a backup.
package enum ProcessorCount {
    package static var online: Int {
        #if canImport(Darwin)
        max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #else
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #endif
    }
}
