import DBSSystem

/// What an entry of a payload is.
public enum EntryKind: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// A regular file: its content.
    case file = 1
    /// A directory: no content; its entries follow it by path.
    case directory = 2
    /// A symbolic link: its target, never followed.
    case symlink = 3
    /// A batch of Django records: a model label and JSON lines as content.
    case records = 4
    /// A hard link: another name of the file entry whose path is its link target,
    /// which comes earlier in the payload. No content (payload version 2).
    case hardLink = 5
    /// A named pipe (payload version 2).
    case fifo = 6
    /// A character device node: its device number in `device` (payload version 2).
    case characterDevice = 7
    /// A block device node: its device number in `device` (payload version 2).
    case blockDevice = 8

    public var description: String {
        switch self {
        case .file: "file"
        case .directory: "directory"
        case .symlink: "symlink"
        case .records: "records"
        case .hardLink: "hardlink"
        case .fifo: "fifo"
        case .characterDevice: "chardev"
        case .blockDevice: "blockdev"
        }
    }

    /// The kinds payload version 1 has.
    var isVersion1: Bool { rawValue <= 4 }
    package var isDevice: Bool { self == .characterDevice || self == .blockDevice }
    /// Kinds whose link target field is present (exactly for these).
    var hasLinkTarget: Bool { self == .symlink || self == .hardLink }
}

/// Who owned an entry: the numbers and, where the backed-up system knew them, the
/// names (a restore as root prefers the name, as tar does).
public struct EntryOwner: Sendable, Equatable, Hashable, Codable {
    public var uid: UInt32
    public var gid: UInt32
    /// 1...255 bytes of UTF-8, or nil.
    public var user: String?
    public var group: String?

    public init(uid: UInt32, gid: UInt32, user: String? = nil, group: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.user = user
        self.group = group
    }
}

/// One extended attribute (POSIX ACLs are the `system.posix_acl_access` and
/// `system.posix_acl_default` ones).
public struct ExtendedAttribute: Sendable, Equatable, Hashable, Codable {
    /// 1...255 bytes of UTF-8, e.g. "user.mime_type".
    public var name: String
    /// At most 64 KiB.
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A device number as major and minor.
public struct DeviceNumber: Sendable, Equatable, Hashable, Codable {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }
}

/// A modification time with the nanoseconds the file system keeps.
public struct FileTimestamp: Sendable, Equatable, Hashable, Codable {
    public var seconds: Int64
    /// 0..<1_000_000_000.
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// Everything a payload records about an entry except its content.
public struct EntryMetadata: Sendable, Equatable, Codable {
    /// Relative, '/'-separated bytes, usually UTF-8 but not necessarily (a file
    /// system's names are bytes). A writer refuses one that breaks `EntryPath`'s rule;
    /// a reader only bounds it, and whoever turns entries into files (FileTreeWriter)
    /// checks it again.
    public var path: PathBytes
    public var kind: EntryKind
    /// Permission bits plus setuid, setgid and sticky (mode & 0o7777).
    public var mode: UInt32
    public var modificationTime: FileTimestamp
    /// The exact content size; 0 for directories, symlinks and streamed entries.
    public var size: UInt64
    /// The content size was not known when the entry began (standard input, Django
    /// records serialized on the fly): `size` is 0 and the entry-end frame carries
    /// the real size, which the reader reports as `lastEntrySize`. Files and records
    /// only.
    public var isStreamed: Bool
    /// The target of a symlink (any bytes but NUL, as the file system had it), or the
    /// entry path of the file a hard link names; nil for every other kind.
    public var linkTarget: PathBytes?
    /// The Django model label of a records batch ("app.Model"); nil for other kinds.
    public var modelLabel: String?
    /// Free key/values a host attaches to an entry, stored as a JSON object.
    public var extra: [String: String]?
    /// The owner (payload version 2; nil: not recorded).
    public var owner: EntryOwner?
    /// Extended attributes and ACLs (payload version 2), in name order.
    public var extendedAttributes: [ExtendedAttribute]
    /// The device number of a character or block device entry, nil for others.
    public var device: DeviceNumber?

    public init(
        path: PathBytes, kind: EntryKind, mode: UInt32, modificationTime: FileTimestamp,
        size: UInt64 = 0, isStreamed: Bool = false, linkTarget: PathBytes? = nil,
        modelLabel: String? = nil, extra: [String: String]? = nil, owner: EntryOwner? = nil,
        extendedAttributes: [ExtendedAttribute] = [], device: DeviceNumber? = nil
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.modificationTime = modificationTime
        self.size = size
        self.isStreamed = isStreamed
        self.linkTarget = linkTarget
        self.modelLabel = modelLabel
        self.extra = extra
        self.owner = owner
        self.extendedAttributes = extendedAttributes
        self.device = device
    }

    /// Whether this entry needs payload version 2 (a new kind or field).
    package var needsVersion2: Bool { !kind.isVersion1 || owner != nil || !extendedAttributes.isEmpty || device != nil }

    /// Whether the path or link target is not UTF-8, so that the entry header must
    /// carry them as bytes (flag bit 7).
    var hasByteNames: Bool { !path.isUTF8 || linkTarget.map { !$0.isUTF8 } ?? false }

    /// Whether content chunks may follow this entry's header.
    var carriesContent: Bool { kind == .file || kind == .records }

    /// Whether the content must be exactly `size` bytes.
    var hasExactSize: Bool { !isStreamed }

    /// What a writer checks beyond `validate()`, so that every entry it writes can be
    /// restored: the path (and a hard link's target, another entry's path) obeys
    /// `EntryPath`, and a symlink's target has no NUL (the kernel would cut it there).
    /// The reader does not check these, so that payloads written before are read as
    /// they were; the restore does.
    func validateForWriting() throws(PayloadError) {
        try validate()
        do throws(EntryPath.Refusal) {
            try EntryPath.check(path)
        } catch {
            throw .invalidEntry(path: path.description, reason: error.reason)
        }
        if kind == .hardLink, let linkTarget {
            do throws(EntryPath.Refusal) {
                try EntryPath.check(linkTarget)
            } catch {
                throw .invalidEntry(path: path.description, reason: "its hard link target: \(error.reason)")
            }
        }
        if kind == .symlink, let linkTarget, linkTarget.bytes.contains(0) {
            throw .invalidEntry(path: path.description, reason: "the link target contains a NUL byte")
        }
    }

    /// The rules an entry obeys, checked by the writer before it writes one and by
    /// the reader after it decodes one.
    func validate() throws(PayloadError) {
        func fail(_ reason: String) -> PayloadError { .invalidEntry(path: path.description, reason: reason) }
        let pathBytes = path.bytes.count
        guard pathBytes > 0 else { throw fail("empty path") }
        guard pathBytes <= PayloadFormat.maxPathBytes else {
            throw fail("path is \(pathBytes) bytes, more than \(PayloadFormat.maxPathBytes)")
        }
        guard mode & ~0o7777 == 0 else { throw fail("mode 0o\(String(mode, radix: 8)) has bits beyond 0o7777") }
        guard modificationTime.nanoseconds < 1_000_000_000 else {
            throw fail("modification time nanoseconds \(modificationTime.nanoseconds) out of range")
        }
        if !carriesContent, size != 0 {
            throw fail("a \(kind) has size \(size), must be 0")
        }
        if isStreamed {
            guard carriesContent else { throw fail("a \(kind) cannot be streamed") }
            guard size == 0 else { throw fail("a streamed entry has size \(size), must be 0") }
        }
        switch (kind.hasLinkTarget, linkTarget) {
        case (true, nil): throw fail("a \(kind) without a target")
        case (true, let target?):
            let count = target.bytes.count
            guard count > 0, count <= PayloadFormat.maxLinkTargetBytes else {
                throw fail("link target is \(count) bytes, must be 1...\(PayloadFormat.maxLinkTargetBytes)")
            }
        case (false, nil): break
        case (false, .some): throw fail("a \(kind) with a link target")
        }
        guard kind.isDevice == (device != nil) else {
            throw fail(kind.isDevice ? "a \(kind) without a device number" : "a \(kind) with a device number")
        }
        if let owner {
            for name in [owner.user, owner.group].compactMap({ $0 }) {
                guard (1...PayloadFormat.maxOwnerNameBytes).contains(name.utf8.count) else {
                    throw fail("owner name is \(name.utf8.count) bytes, must be 1...\(PayloadFormat.maxOwnerNameBytes)")
                }
            }
        }
        guard extendedAttributes.count <= PayloadFormat.maxExtendedAttributes else {
            throw fail(
                "\(extendedAttributes.count) extended attributes, more than \(PayloadFormat.maxExtendedAttributes)")
        }
        var attributeBytes = 0
        for attribute in extendedAttributes {
            guard (1...PayloadFormat.maxAttributeNameBytes).contains(attribute.name.utf8.count),
                !attribute.name.utf8.contains(0)
            else {
                throw fail(
                    "extended attribute name '\(attribute.name)' must be 1...\(PayloadFormat.maxAttributeNameBytes) bytes without NUL"
                )
            }
            guard attribute.value.count <= PayloadFormat.maxAttributeValueBytes else {
                throw fail(
                    "extended attribute '\(attribute.name)' is \(attribute.value.count) bytes, more than \(PayloadFormat.maxAttributeValueBytes)"
                )
            }
            attributeBytes += attribute.name.utf8.count + attribute.value.count
        }
        guard attributeBytes <= PayloadFormat.maxAttributeTotalBytes else {
            throw fail(
                "extended attributes total \(attributeBytes) bytes, more than \(PayloadFormat.maxAttributeTotalBytes)")
        }
        switch (kind, modelLabel) {
        case (.records, nil): throw fail("records without a model label")
        case (.records, let label?):
            let count = label.utf8.count
            guard count > 0, count <= PayloadFormat.maxModelLabelBytes else {
                throw fail("model label is \(count) bytes, must be 1...\(PayloadFormat.maxModelLabelBytes)")
            }
        case (_, nil): break
        case (_, .some): throw fail("a \(kind) with a model label")
        }
    }
}

/// What a finished payload holds, as its end frame records it.
public struct PayloadSummary: Sendable, Equatable {
    public internal(set) var entryCount: UInt64
    /// The sum of every entry's content size.
    public internal(set) var contentBytes: UInt64
    /// The payload digest: SHA-256 of every byte before the end frame except chunk
    /// bodies, which it covers through their entries' SHA-256 (PayloadFrame.swift).
    public internal(set) var sha256: [UInt8]
}
