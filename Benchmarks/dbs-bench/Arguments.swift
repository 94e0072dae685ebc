import DBSKit

/// A bad or unknown command-line argument, named.
struct BadArgument: Error, CustomStringConvertible {
    let argument: String
    var description: String { "bad argument: \(argument)" }
}

/// `--flag value` and bare `--switch` arguments, parsed by hand (the package has no
/// argument parser for the bench). Every flag read is removed; `finish()` refuses
/// whatever is left.
struct Arguments {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    init(_ arguments: [String], switches known: Set<String>) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--") else { throw BadArgument(argument: flag) }
            if known.contains(flag) {
                switches.insert(flag)
            } else {
                guard let value = rest.popFirst() else { throw BadArgument(argument: "\(flag) needs a value") }
                values[flag] = value
            }
        }
    }

    mutating func flag(_ name: String) -> Bool { switches.remove(name) != nil }

    mutating func string(_ name: String) -> String? { values.removeValue(forKey: name) }

    /// A byte count: digits with an optional K, M or G suffix (binary units).
    mutating func bytes(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Self.parseBytes(text), value > 0 else { throw BadArgument(argument: "\(name) \(text)") }
        return value
    }

    mutating func positive(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), value > 0 else { throw BadArgument(argument: "\(name) \(text)") }
        return value
    }

    mutating func unsigned(_ name: String) throws -> UInt64? {
        guard let text = string(name) else { return nil }
        guard let value = UInt64(text) else { throw BadArgument(argument: "\(name) \(text)") }
        return value
    }

    mutating func list<T>(_ name: String, _ make: (String) -> T?) throws -> [T]? {
        guard let text = string(name) else { return nil }
        let items = text.split(separator: ",").map { make(String($0)) }
        guard !items.isEmpty, !items.contains(where: { $0 == nil }) else {
            throw BadArgument(argument: "\(name) \(text)")
        }
        return items.map { $0! }
    }

    /// Refuses any flag no one asked for.
    func finish() throws {
        if let flag = values.keys.sorted().first ?? switches.sorted().first { throw BadArgument(argument: flag) }
    }

    static func parseBytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last?.uppercased().first, let unit = units[last] {
            return Int(text.dropLast()).map { $0 * unit }
        }
        return Int(text)
    }
}

/// Byte counts as people read them: 4 KiB, 64 MiB, 1 GiB.
func formatBytes(_ count: Int) -> String {
    for (unit, name) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] where count >= unit && count % unit == 0
    {
        return "\(count / unit) \(name)"
    }
    return "\(count) B"
}
