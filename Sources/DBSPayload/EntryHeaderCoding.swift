import FoundationEssentials

/// The entry-header frame body (layout in PayloadFrame.swift), in both directions.
package enum EntryHeaderCoding {
    private static let hasLinkTarget: UInt8 = 1 << 0
    private static let hasModelLabel: UInt8 = 1 << 1
    private static let hasExtra: UInt8 = 1 << 2
    private static let streamed: UInt8 = 1 << 3
    // Payload version 2.
    private static let hasOwner: UInt8 = 1 << 4
    private static let hasDevice: UInt8 = 1 << 5
    private static let hasAttributes: UInt8 = 1 << 6
    /// The path and link target are bytes, not necessarily UTF-8 (a later addition to
    /// version 2: set only when one of them is not UTF-8, so every other payload stays
    /// what earlier readers read).
    private static let byteNames: UInt8 = 1 << 7

    /// The flags a payload of `version` may carry.
    private static func knownFlags(_ version: UInt16) -> UInt8 {
        let base = hasLinkTarget | hasModelLabel | hasExtra | streamed
        return version >= 2 ? base | hasOwner | hasDevice | hasAttributes | byteNames : base
    }

    /// The entry-header body of `entry`. `checked`: the writer's rules too
    /// (`EntryMetadata.validateForWriting`); off only for tests that need the hostile
    /// payloads a restore must refuse.
    package static func encode(
        _ entry: EntryMetadata, version: UInt16 = PayloadFormat.version,
        checked: Bool = true
    ) throws(PayloadError) -> [UInt8] {
        if checked { try entry.validateForWriting() } else { try entry.validate() }
        if version < 2, entry.needsVersion2 || entry.hasByteNames {
            throw PayloadError.invalidEntry(
                path: entry.path.description,
                reason:
                    "a \(entry.kind) with owner, device, extended attributes or a name that is not UTF-8 needs payload version 2"
            )
        }
        let extra = try entry.extra.map { (map) throws(PayloadError) in
            let json = try StringMapJSON.encode(map)
            guard json.count <= PayloadFormat.maxExtraBytes else {
                throw PayloadError.invalidEntry(
                    path: entry.path.description,
                    reason: "extra JSON is \(json.count) bytes, more than \(PayloadFormat.maxExtraBytes)")
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
        if entry.owner != nil { flags |= hasOwner }
        if entry.device != nil { flags |= hasDevice }
        if !entry.extendedAttributes.isEmpty { flags |= hasAttributes }
        if entry.hasByteNames { flags |= byteNames }
        encoder.append(flags)
        // validate() bounded every string's length, so the narrowing cannot trap.
        encoder.append(UInt16(entry.path.bytes.count))
        encoder.append(raw: entry.path.bytes)
        if let target = entry.linkTarget {
            encoder.append(UInt16(target.bytes.count))
            encoder.append(raw: target.bytes)
        }
        if let label = entry.modelLabel {
            encoder.append(UInt16(label.utf8.count))
            encoder.append(raw: Array(label.utf8))
        }
        if let extra {
            encoder.append(UInt32(extra.count))
            encoder.append(raw: extra)
        }
        if let owner = entry.owner {
            encoder.append(owner.uid)
            encoder.append(owner.gid)
            for name in [owner.user, owner.group] {
                let bytes = Array((name ?? "").utf8)
                encoder.append(UInt8(bytes.count))
                encoder.append(raw: bytes)
            }
        }
        if let device = entry.device {
            encoder.append(device.major)
            encoder.append(device.minor)
        }
        if !entry.extendedAttributes.isEmpty {
            let sorted = entry.extendedAttributes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            encoder.append(UInt16(sorted.count))
            for attribute in sorted {
                encoder.append(UInt8(attribute.name.utf8.count))
                encoder.append(raw: Array(attribute.name.utf8))
                encoder.append(UInt32(attribute.value.count))
                encoder.append(raw: attribute.value)
            }
        }
        return encoder.bytes
    }

    package static func decode(
        _ body: [UInt8], version: UInt16 = PayloadFormat.version
    ) throws(PayloadError) -> EntryMetadata {
        var decoder = FrameBodyDecoder(body, frame: .entryHeader)
        let kindByte = try decoder.uint8("kind")
        guard let kind = EntryKind(rawValue: kindByte), version >= 2 || kind.isVersion1 else {
            throw .malformedFrame("entry-header frame: unknown entry kind \(kindByte)")
        }
        let mode = try decoder.uint32("mode")
        let seconds = try decoder.int64("modification seconds")
        let nanoseconds = try decoder.uint32("modification nanoseconds")
        let size = try decoder.uint64("size")
        let flags = try decoder.uint8("flags")
        guard flags & ~knownFlags(version) == 0 else {
            throw .malformedFrame("entry-header frame: unknown flags 0x\(String(flags, radix: 16))")
        }
        // Without flag bit 7 the path and link target are UTF-8, as in every payload
        // before it; with it, any bytes.
        let anyBytes = flags & byteNames != 0
        let path = try decoder.name(Int(try decoder.uint16("path length")), "path", anyBytes: anyBytes)
        let linkTarget =
            flags & hasLinkTarget == 0
            ? nil
            : try decoder.name(Int(try decoder.uint16("link target length")), "link target", anyBytes: anyBytes)
        let modelLabel =
            flags & hasModelLabel == 0
            ? nil
            : try decoder.string(Int(try decoder.uint16("model label length")), "model label")
        var extra: [String: String]?
        if flags & hasExtra != 0 {
            let length = Int(try decoder.uint32("extra length"))
            guard length <= PayloadFormat.maxExtraBytes else {
                throw .malformedFrame(
                    "entry-header frame: extra JSON of \(length) bytes exceeds \(PayloadFormat.maxExtraBytes)")
            }
            extra = try StringMapJSON.decode(try decoder.raw(length, "extra"), what: "extra JSON of '\(path)'")
        }
        var owner: EntryOwner?
        if flags & hasOwner != 0 {
            let uid = try decoder.uint32("uid")
            let gid = try decoder.uint32("gid")
            let userLength = Int(try decoder.uint8("user name length"))
            let user = userLength == 0 ? nil : try decoder.string(userLength, "user name")
            let groupLength = Int(try decoder.uint8("group name length"))
            let group = groupLength == 0 ? nil : try decoder.string(groupLength, "group name")
            owner = EntryOwner(uid: uid, gid: gid, user: user, group: group)
        }
        var device: DeviceNumber?
        if flags & hasDevice != 0 {
            device = DeviceNumber(major: try decoder.uint32("device major"), minor: try decoder.uint32("device minor"))
        }
        var attributes: [ExtendedAttribute] = []
        if flags & hasAttributes != 0 {
            let count = Int(try decoder.uint16("extended attribute count"))
            guard count >= 1, count <= PayloadFormat.maxExtendedAttributes else {
                throw .malformedFrame(
                    "entry-header frame: \(count) extended attributes, must be 1...\(PayloadFormat.maxExtendedAttributes)"
                )
            }
            for _ in 0..<count {
                let name = try decoder.string(Int(try decoder.uint8("attribute name length")), "attribute name")
                let length = Int(try decoder.uint32("attribute value length"))
                guard length <= PayloadFormat.maxAttributeValueBytes else {
                    throw .malformedFrame(
                        "entry-header frame: attribute value of \(length) bytes exceeds \(PayloadFormat.maxAttributeValueBytes)"
                    )
                }
                let value = try decoder.raw(length, "attribute value")
                if let last = attributes.last, !last.name.utf8.lexicographicallyPrecedes(name.utf8) {
                    throw .malformedFrame(
                        "entry-header frame: extended attributes out of order or repeated ('\(name)')")
                }
                attributes.append(ExtendedAttribute(name: name, value: value))
            }
        }
        try decoder.finish()
        let entry = EntryMetadata(
            path: path, kind: kind, mode: mode,
            modificationTime: FileTimestamp(seconds: seconds, nanoseconds: nanoseconds),
            size: size, isStreamed: flags & streamed != 0, linkTarget: linkTarget,
            modelLabel: modelLabel, extra: extra, owner: owner,
            extendedAttributes: attributes, device: device)
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
