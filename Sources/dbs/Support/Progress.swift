import DBSKit
import Foundation

/// A progress line on stderr (bytes, rate, ETA), redrawn at most five times a second.
/// Silent unless stderr is a terminal, and with `--quiet`.
final class ProgressLine {
    private let label: String
    private let total: UInt64?
    private let enabled: Bool
    private let start = Date()
    private var done: UInt64 = 0
    private var lastDraw = Date.distantPast

    init(label: String, total: UInt64?, quiet: Bool) {
        self.label = label
        self.total = total
        self.enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func advance(by count: Int) {
        done += UInt64(count)
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= 0.2 {
            lastDraw = now
            draw(now: now)
        }
    }

    func finish() {
        guard enabled else { return }
        draw(now: Date())
        FileHandleStream.standardError.write("\n")
    }

    private func draw(now: Date) {
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(done) / elapsed
        var line = "\(label) \(formatBytes(done))"
        if let total, total > 0 {
            let fraction = min(Double(done) / Double(total), 1)
            line += " of \(formatBytes(total)) (\(Int(fraction * 100))%)"
            if rate > 0, done < total {
                line += ", ETA \(Int(Double(total - done) / rate))s"
            }
        }
        line += ", \(formatBytes(UInt64(rate)))/s"
        FileHandleStream.standardError.write("\r\u{1B}[K" + line)
    }
}
