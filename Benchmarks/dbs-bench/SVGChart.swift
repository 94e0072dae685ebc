/// Charts as plain SVG text, written by hand: no plotting dependency, readable in any
/// browser and on GitHub.
enum SVGChart {
    static let font = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
    /// A hue per group (RS backend), from dark to light per thread count.
    static let palette = [
        ["#1f4e99", "#4f86d9", "#9dc3f5"], ["#1e7b34", "#47b05f", "#9fdcaa"],
        ["#b35900", "#f08a24", "#ffc78a"], ["#6a3d9a", "#9a6fcf", "#cab2d6"],
    ]

    /// One bar of the throughput chart.
    struct Bar {
        var stage: String
        /// The RS backend, or "" for a stage without one: the bar's hue.
        var group: String
        var threads: Int
        var value: Double
        /// "isal, 2 threads", or "2 threads" for a stage without an RS backend.
        var series: String { (group.isEmpty ? "" : "\(group), ") + "\(threads) thread\(threads == 1 ? "" : "s")" }
    }

    /// Horizontal bars grouped by stage, one colour per series, value at each bar's end.
    static func bars(_ bars: [Bar], title: String, unit: String, subtitle: String) -> String {
        var stages: [String] = []
        var groups: [String] = []
        var threads: [Int] = []
        for bar in bars {
            if !stages.contains(bar.stage) { stages.append(bar.stage) }
            if !groups.contains(bar.group) { groups.append(bar.group) }
            if !threads.contains(bar.threads) { threads.append(bar.threads) }
        }
        threads.sort()
        func color(_ bar: Bar) -> String {
            let hues = palette[(groups.firstIndex(of: bar.group) ?? 0) % palette.count]
            return hues[min(threads.firstIndex(of: bar.threads) ?? 0, hues.count - 1)]
        }
        func order(_ bar: Bar) -> Int { (groups.firstIndex(of: bar.group) ?? 0) * 1000 + bar.threads }
        let sortedBars = bars.sorted { order($0) < order($1) }
        var legendBars: [Bar] = []
        for bar in sortedBars where !legendBars.contains(where: { $0.series == bar.series }) { legendBars.append(bar) }
        let labelWidth = 230.0
        let plotWidth = 560.0
        let barHeight = 13.0
        let gap = 10.0
        let top = 78.0
        let maximum = max(bars.map(\.value).max() ?? 1, 1e-9)
        let scale = niceCeiling(maximum)
        var y = top
        var body = ""
        for (index, stage) in stages.enumerated() {
            let group = sortedBars.filter { $0.stage == stage }
            let height = Double(group.count) * barHeight
            if index % 2 == 0 {
                body += rect(0, y - gap / 2, labelWidth + plotWidth + 90, height + gap, fill: "#f4f4f4")
            }
            body += text(labelWidth - 8, y + height / 2 + 4, stage, size: 12, anchor: "end")
            for (row, bar) in group.enumerated() {
                let width = plotWidth * bar.value / scale
                let barY = y + Double(row) * barHeight
                body += rect(labelWidth, barY + 1, max(width, 0.5), barHeight - 2, fill: color(bar))
                body += text(
                    labelWidth + width + 4, barY + barHeight - 3, format3(bar.value), size: 10, anchor: "start")
            }
            y += height + gap
        }
        // Axis with 5 ticks.
        var axis = ""
        for tick in 0...5 {
            let x = labelWidth + plotWidth * Double(tick) / 5
            axis +=
                "<line x1=\"\(f(x))\" y1=\"\(f(top - 6))\" x2=\"\(f(x))\" y2=\"\(f(y - gap / 2))\" stroke=\"#ccc\" stroke-width=\"0.5\"/>\n"
            axis += text(x, y + 10, trimmed(scale * Double(tick) / 5), size: 10, anchor: "middle")
        }
        axis += text(labelWidth + plotWidth / 2, y + 26, unit, size: 11, anchor: "middle")
        // Legend.
        var legend = ""
        var x = 10.0
        for bar in legendBars {
            legend += rect(x, 46, 12, 12, fill: color(bar))
            legend += text(x + 16, 56, bar.series, size: 11, anchor: "start")
            x += 24 + Double(bar.series.count) * 6.6
        }
        let width = labelWidth + plotWidth + 90
        let height = y + 36
        return document(width: width, height: height, title: title, subtitle: subtitle, body: axis + body + legend)
    }

    /// The bit-rot grid: one row per kind of damage, one cell per level, coloured by
    /// the worst outcome of its trials.
    static func outcomeGrid(_ results: [BitrotBench.Result], title: String, machine: Machine) -> String {
        var kinds: [String] = []
        for r in results where !kinds.contains(r.scenario.kind) { kinds.append(r.scenario.kind) }
        let labelWidth = 250.0
        let cellWidth = 175.0
        let cellHeight = 54.0
        let top = 70.0
        let columns = kinds.map { kind in results.filter { $0.scenario.kind == kind }.count }.max() ?? 1
        let colors: [BitrotBench.Outcome: String] = [.exact: "#4caf50", .refused: "#f0b429", .wrong: "#d62728"]
        var body = ""
        for (row, kind) in kinds.enumerated() {
            let y = top + Double(row) * (cellHeight + 6)
            body += text(labelWidth - 10, y + cellHeight / 2 + 4, kind, size: 12, anchor: "end")
            for (column, r) in results.filter({ $0.scenario.kind == kind }).enumerated() {
                let x = labelWidth + Double(column) * (cellWidth + 6)
                body += rect(x, y, cellWidth, cellHeight, fill: colors[r.worst]!, radius: 4)
                body += text(x + cellWidth / 2, y + 17, r.scenario.level, size: 11, anchor: "middle", bold: true)
                body += text(x + cellWidth / 2, y + 32, r.summary, size: 11, anchor: "middle")
                body += text(
                    x + cellWidth / 2, y + 47, "django-dbs 0.1: \(r.scenario.seed ?? "not known")", size: 9,
                    anchor: "middle", color: "#333")
            }
        }
        let bottom = top + Double(kinds.count) * (cellHeight + 6) + 8
        var legend = ""
        var x = labelWidth
        for (outcome, label) in [
            (BitrotBench.Outcome.exact, "exact: every byte restored"),
            (.refused, "refused: the reader said which shards are lost"),
            (.wrong, "WRONG: bytes that were never written"),
        ] {
            legend += rect(x, bottom, 12, 12, fill: colors[outcome]!)
            legend += text(x + 16, bottom + 10, label, size: 11, anchor: "start")
            x += 26 + Double(label.count) * 6.2
        }
        let width = max(labelWidth + Double(columns) * (cellWidth + 6) + 10, x + 10)
        let subtitle = "\(machine.architecture), \(machine.model), \(machine.date)"
        return document(width: width, height: bottom + 26, title: title, subtitle: subtitle, body: body + legend)
    }

    // MARK: - Pieces

    private static func document(width: Double, height: Double, title: String, subtitle: String, body: String) -> String
    {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" \(font)>
        <rect width="100%" height="100%" fill="white"/>
        \(text(10, 22, title, size: 16, anchor: "start", bold: true))\(text(10, 38, subtitle, size: 11, anchor: "start", color: "#555"))\(body)</svg>

        """
    }

    private static func rect(
        _ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, radius: Double = 0
    ) -> String {
        "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"\(f(radius))\" fill=\"\(fill)\"/>\n"
    }

    private static func text(
        _ x: Double, _ y: Double, _ content: String, size: Int, anchor: String,
        bold: Bool = false, color: String = "#222"
    ) -> String {
        let escaped = content.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
        return "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(color)\""
            + (bold ? " font-weight=\"bold\"" : "") + ">\(escaped)</text>\n"
    }

    private static func f(_ x: Double) -> String { format2(x) }

    /// 1, 2, 2.5 or 5 times a power of ten, at least `x`.
    static func niceCeiling(_ x: Double) -> Double {
        var power = 1.0
        while power * 10 < x { power *= 10 }
        while power > x { power /= 10 }
        for step in [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where power * step >= x { return power * step }
        return power * 10
    }

    private static func trimmed(_ x: Double) -> String {
        var s = format3(x)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

extension String {
    func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
