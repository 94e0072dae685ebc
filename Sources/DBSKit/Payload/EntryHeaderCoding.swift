import Foundation

/// The entry-header frame body (layout in PayloadFrame.swift), in both directions.
enum EntryHeaderCoding {
    private static let hasLinkTarget: UInt8 = 1 << 0
    private static let hasModelLabel: UInt8 = 1 << 1
    private static let hasExtra: UInt8 = 1 << 2
    private static let streamed: UInt8 = 1 << 3

    static func encode(_ entry: EntryMetadata) throws(PayloadError) -> [UInt8] {
        try entry.validate()
        let extra = try entry.extra.map { (map) throws(PayloadError) in
            let json = try StringMapJSON.encode(map)
            guard json.count <= PayloadFormat.maxExtraBytes else {
                throw PayloadError.invalidEntry(path: entry.path, reason: "extra JSON is \(json.count) bytes, more than \(PayloadFormat.maxExtraBytes)")
            }
            return json
        }
        var encoder = FrameBodyEncoder()
        encoder.append(entry.kind.rawValue)
        encoder.append(entry.mode)
        encoder.append(entry.modificationTime.seconds)
        encoder.append(entry.modificationTime.nanoseconds)
        encoder.append(entry.size)
        var flags: UInt8 = 0
        if entry.linkTarget != nil { flags |= hasLinkTarget }
        if entry.modelLabel != nil { flags |= hasModelLabel }
        if extra != nil { flags |= hasExtra }
        if entry.isStreamed { flags |= streamed }
        encoder.append(flags)
        // validate() bounded every string's length, so the narrowing cannot trap.
        encoder.append(UInt16(entry.path.utf8.count))
        encoder.append(raw: Array(entry.path.utf8))
        if let target = entry.linkTarget {
            encoder.append(UInt16(target.utf8.count))
            encoder.append(raw: Array(target.utf8))
        }
        if let label = entry.modelLabel {
            encoder.append(UInt16(label.utf8.count))
            encoder.append(raw: Array(label.utf8))
        }
        if let extra {
            encoder.append(UInt32(extra.count))
            encoder.append(raw: extra)
        }
        return encoder.bytes
    }

    static func decode(_ body: [UInt8]) throws(PayloadError) -> EntryMetadata {
        var decoder = FrameBodyDecoder(body, frame: .entryHeader)
        let kindByte = try decoder.uint8("kind")
        guard let kind = EntryKind(rawValue: kindByte) else {
            throw .malformedFrame("entry-header frame: unknown entry kind \(kindByte)")
        }
        let mode = try decoder.uint32("mode")
        let seconds = try decoder.int64("modification seconds")
        let nanoseconds = try decoder.uint32("modification nanoseconds")
        let size = try decoder.uint64("size")
        let flags = try decoder.uint8("flags")
        guard flags & ~(hasLinkTarget | hasModelLabel | hasExtra | streamed) == 0 else {
            throw .malformedFrame("entry-header frame: unknown flags 0x\(String(flags, radix: 16))")
        }
        let path = try decoder.string(Int(try decoder.uint16("path length")), "path")
        let linkTarget = flags & hasLinkTarget == 0 ? nil
            : try decoder.string(Int(try decoder.uint16("link target length")), "link target")
        let modelLabel = flags & hasModelLabel == 0 ? nil
            : try decoder.string(Int(try decoder.uint16("model label length")), "model label")
        var extra: [String: String]?
        if flags & hasExtra != 0 {
            let length = Int(try decoder.uint32("extra length"))
            guard length <= PayloadFormat.maxExtraBytes else {
                throw .malformedFrame("entry-header frame: extra JSON of \(length) bytes exceeds \(PayloadFormat.maxExtraBytes)")
            }
            extra = try StringMapJSON.decode(try decoder.raw(length, "extra"), what: "extra JSON of '\(path)'")
        }
        try decoder.finish()
        let entry = EntryMetadata(path: path, kind: kind, mode: mode,
                                  modificationTime: FileTimestamp(seconds: seconds, nanoseconds: nanoseconds),
                                  size: size, isStreamed: flags & streamed != 0, linkTarget: linkTarget,
                                  modelLabel: modelLabel, extra: extra)
        try entry.validate()
        return entry
    }
}

/// A JSON object of string values: the metadata document and entries' extras.
enum StringMapJSON {
    static func encode(_ map: [String: String]) throws(PayloadError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(map))
        } catch {
            throw .invalidMetadata("cannot encode as JSON: \(error)")
        }
    }

    static func decode(_ bytes: [UInt8], what: String) throws(PayloadError) -> [String: String] {
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(bytes))
        } catch {
            throw .malformedFrame("\(what) is not a JSON object of strings")
        }
    }
}
