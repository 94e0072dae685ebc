import DBSSystem

/// A listening Unix socket at `path` (what a backup meets in /run or a home
/// directory and cannot store), closed when released.
public final class UnixSocket {
    public let descriptor: Int32

    /// Nil when the socket cannot be created or bound (a path over 107 bytes...).
    public init?(at path: String) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let fits = withUnsafeMutableBytes(of: &address.sun_path) { raw -> Bool in
            guard path.utf8.count < raw.count else { return false }
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            return true
        }
        let bound =
            fits
            && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
                }
            }
        guard bound else {
            close(descriptor)
            return nil
        }
    }

    deinit { close(descriptor) }
}
