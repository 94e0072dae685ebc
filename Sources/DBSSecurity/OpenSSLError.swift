internal import COpenSSL

extension SecurityError {
    /// A `.cryptoFailure` naming `operation` and the oldest error on this thread's
    /// OpenSSL error queue, which it then clears so that a later failure does not
    /// report a stale cause.
    static func openSSL(_ operation: String) -> SecurityError {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return .cryptoFailure(operation) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .cryptoFailure("\(operation): \(message)")
    }
}
