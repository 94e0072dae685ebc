/// A JSON value, rendered by hand (the bench does without Foundation).
indirect enum JSON {
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    var rendered: String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .number(let x): return x.isFinite ? "\(x)" : "null"
        case .integer(let n): return "\(n)"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension Machine {
    var json: JSON {
        .object([
            ("architecture", .string(architecture)), ("model", .string(model)),
            ("simdFeatures", .array(simdFeatures.map(JSON.string))), ("cores", .integer(cores)),
            ("backends", .array(backends.map(JSON.string))), ("defaultBackend", .string(defaultBackend)),
            ("defaultBackendReason", .string(defaultBackendReason)),
            ("libraries", .object(libraries.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("loadAverage", .string(loadAverage)), ("date", .string(date)),
        ])
    }
}

/// A markdown table, columns padded so the text reads as a table too.
func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { column in
        ([header] + rows).map { $0[column].count }.max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        "| "
            + cells.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }
            .joined(separator: " | ") + " |"
    }
    return
        ([line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
        + rows.map(line)).joined(separator: "\n")
}

/// The median of `values` (the upper one of an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    return values.sorted()[values.count / 2]
}

/// Writes `text` to `path` (replacing it).
func writeText(_ text: String, to path: String) throws {
    try writeFile(Array(text.utf8), to: path)
}
