import DBSPayload
import DBSSystem

/// Walks files and directories and writes them as payload entries.
///
/// For an input "/a/b/dir" the entries are "dir", "dir/x", "dir/x/y"...; for a file
/// input its base name. Directories come before their contents, names in byte
/// order, so a payload is the same whatever order the file system lists them in
/// and a restore always meets a directory before what is in it. Regular files,
/// directories (empty ones too), symlinks (stored as links, never followed), FIFOs
/// and device nodes are kept with their permission bits, nanosecond modification
/// times, owner (uid, gid and their names) and extended attributes (POSIX ACLs
/// included); sockets are skipped with a warning. A file with several hard links is
/// stored once, at its first path in walk order; its other paths are hard-link
/// entries naming that one. Names are stored as the file system has them, byte for
/// byte: not necessarily UTF-8 (`PathBytes`), never normalised.
///
/// Content is streamed in pieces through one buffer, so memory does not grow with
/// file size; a sparse file is read as its zeros (the compression layer shrinks them).
package struct FileTreeReader {
    package struct Options {
        /// Called for each entry skipped (an unsupported file type, a path longer
        /// than a payload holds, a file that vanished during the walk), changed while
        /// read, or stored less something.
        package var warning: (FileTreeWarning) -> Void
        /// Bytes read from a file per read(2).
        package var readSize: Int

        package init(warning: @escaping (FileTreeWarning) -> Void = { _ in }, readSize: Int = 1 << 20) {
            self.warning = warning
            self.readSize = max(4096, readSize)
        }
    }

    package let inputs: [String]
    package let options: Options

    package init(inputs: [String], options: Options = Options()) {
        self.inputs = inputs
        self.options = options
    }

    /// Writes every input as entries into `writer`; does not finish the payload.
    /// Throws `DataError` naming the path (missing input, unreadable file...) or the
    /// writer's error.
    package func write(to writer: PayloadWriter, progress: ((FileTreeProgress) -> Void)? = nil) throws {
        var roots: [(source: PathBytes, name: PathBytes, status: FileStatus)] = []
        for input in inputs {
            guard let status = try POSIX.linkStatus(input) else { throw DataError.missingInput(path: input) }
            let name = PathBytes(try Self.entryName(forInput: input))
            // By bytes: "é" precomposed and decomposed are two names.
            if roots.contains(where: { $0.name == name }) { throw DataError.duplicateEntry(path: name.description) }
            roots.append((PathBytes(input), name, status))
        }
        roots.sort { $0.name < $1.name }
        var walk = Walk(writer: writer, options: options, progress: progress)
        for root in roots {
            try walk.visit(source: root.source, path: root.name, status: root.status)
        }
    }

    /// The entry name of an input: its last path component ("dir" for "/a/b/dir/"),
    /// resolved through realpath for "." and "..".
    static func entryName(forInput input: String) throws(DataError) -> String {
        var trimmed = Substring(input)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        var name = trimmed.split(separator: "/").last.map(String.init) ?? ""
        if name.isEmpty || name == "." || name == ".." {
            guard let resolved = realpath(input, nil) else {
                throw .io(path: input, operation: "resolve", errno: errno)
            }
            defer { free(resolved) }
            name = String(cString: resolved).split(separator: "/").last.map(String.init) ?? ""
        }
        guard !name.isEmpty else {
            throw .invalidInput(
                path: input, reason: "the root directory has no name to store it under; back up its contents instead")
        }
        return name
    }
}

/// One run of FileTreeReader.write: the writer, the read buffer and the counts.
private struct Walk {
    let writer: PayloadWriter
    let options: FileTreeReader.Options
    let progress: ((FileTreeProgress) -> Void)?
    var buffer: [UInt8]
    var entries: UInt64 = 0
    var bytes: UInt64 = 0
    let names = OwnerNames()
    /// (device, inode) of the files with several links stored so far, to their path.
    var linkedFiles: [[UInt64]: PathBytes] = [:]

    init(writer: PayloadWriter, options: FileTreeReader.Options, progress: ((FileTreeProgress) -> Void)?) {
        self.writer = writer
        self.options = options
        self.progress = progress
        self.buffer = [UInt8](repeating: 0, count: options.readSize)
    }

    mutating func visit(source: PathBytes, path: PathBytes, status: FileStatus) throws {
        guard path.bytes.count <= PayloadFormat.maxPathBytes else {
            options.warning(
                FileTreeWarning(path: source, message: "its path is longer than \(PayloadFormat.maxPathBytes) bytes"))
            return
        }
        switch status.type {
        case .regular:
            if status.linkCount > 1 {
                let key = [status.device, status.inode]
                if let first = linkedFiles[key] {
                    try writeEntry(
                        described(
                            EntryMetadata(
                                path: path, kind: .hardLink, mode: status.permissions,
                                modificationTime: status.modificationTime, linkTarget: first),
                            status, source: source, attributes: false))
                    return
                }
                linkedFiles[key] = path
            }
            try writeFile(source: source, path: path)
        case .directory:
            try writeEntry(
                described(
                    EntryMetadata(
                        path: path, kind: .directory, mode: status.permissions,
                        modificationTime: status.modificationTime), status, source: source))
            try visitChildren(of: source, path: path)
        case .fifo, .characterDevice, .blockDevice:
            let kind: EntryKind =
                status.type == .fifo ? .fifo : status.type == .characterDevice ? .characterDevice : .blockDevice
            try writeEntry(
                described(
                    EntryMetadata(
                        path: path, kind: kind, mode: status.permissions,
                        modificationTime: status.modificationTime,
                        device: kind.isDevice ? status.deviceNumber : nil),
                    status, source: source))
        case .symlink:
            // The target's bytes as they are, UTF-8 or not (readlink never gives an
            // empty one on Linux).
            let target = PathBytes(bytes: try POSIX.linkTarget(source))
            try writeEntry(
                described(
                    EntryMetadata(
                        path: path, kind: .symlink, mode: status.permissions,
                        modificationTime: status.modificationTime, linkTarget: target),
                    status, source: source))
        case .unsupported(let what):
            options.warning(FileTreeWarning(path: source, message: "it is \(what)"))
        }
    }

    /// The directory's entries in byte order, whatever bytes their names are.
    private mutating func visitChildren(of source: PathBytes, path: PathBytes) throws {
        let children = try POSIX.directoryNames(source).sorted()
        let base = source.bytes.last == 0x2F ? PathBytes(bytes: source.bytes.dropLast()) : source
        for child in children {
            let childSource = base.appending(child)
            guard let status = try POSIX.linkStatus(childSource) else {
                options.warning(FileTreeWarning(path: childSource, message: "it vanished during the backup"))
                continue
            }
            try visit(source: childSource, path: path.appending(child), status: status)
        }
    }

    /// `entry` with the owner of `status` and, unless `attributes` is false, the
    /// extended attributes at `source` (`descriptor` when the file is open).
    private func described(
        _ entry: EntryMetadata, _ status: FileStatus, source: PathBytes,
        descriptor: Int32 = -1, attributes: Bool = true
    ) -> EntryMetadata {
        var entry = entry
        entry.owner = names.owner(of: status)
        if attributes {
            entry.extendedAttributes = ExtendedAttributes.read(
                descriptor: descriptor, path: descriptor >= 0 ? nil : source, shownAs: source.description,
                warn: { options.warning(FileTreeWarning(path: source, message: $0)) })
        }
        return entry
    }

    private mutating func writeEntry(_ entry: EntryMetadata) throws {
        try writer.beginEntry(entry)
        try writer.endEntry()
        entries += 1
        progress?(FileTreeProgress(entries: entries, bytes: bytes, path: entry.path))
    }

    /// Streams a regular file, and says so (a `.changed` warning) when it changed
    /// while it was read: size, mtime, ctime or inode differ between the fstat before
    /// and after, or bytes follow its size. A file that fits in the read buffer is read
    /// whole before its entry begins and re-read up to `rereads` times until two
    /// fstats agree, so a small file rewritten meanwhile is stored as one version; a
    /// larger one streams once (the payload cannot take back an entry begun) and is
    /// reported. A file that shrinks is padded with zeros to its recorded size, and
    /// reported; a file that grew is stored at its size before, and reported.
    private mutating func writeFile(source sourcePath: PathBytes, path: PathBytes) throws {
        let source = sourcePath.description
        let fd = try POSIX.check("open", source) {
            sourcePath.withCString { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }
        }
        let file = DescriptorHandle(fd)
        var status = try POSIX.status(of: file, path: source)
        guard status.type == .regular else {
            throw DataError.fileChanged(path: source, reason: "it is no longer a regular file")
        }
        var small: [UInt8]?
        var change: String?
        if status.size <= UInt64(buffer.count) {
            for attempt in 0...Self.rereads {
                let (bytes, after, changed) = try readSmall(file, source: source, status: status)
                small = bytes
                change = changed
                if changed == nil { break }
                status = after
                if attempt < Self.rereads, lseek(file.raw, 0, SEEK_SET) < 0 { break }
            }
        }
        try writer.beginEntry(
            described(
                EntryMetadata(
                    path: path, kind: .file, mode: status.permissions,
                    modificationTime: status.modificationTime, size: status.size),
                status, source: sourcePath, descriptor: file.raw))
        if let small {
            try writer.writeContent(small)
            bytes += UInt64(small.count)
        } else {
            change = try streamLarge(file, source: source, path: path, status: status)
        }
        try writer.endEntry()
        try file.close(path: source)
        if let change { options.warning(FileTreeWarning(path: sourcePath, message: change, kind: .changed)) }
        entries += 1
        progress?(FileTreeProgress(entries: entries, bytes: bytes, path: path))
    }

    /// Re-reads of a small file that changed while read, before it is stored as changed.
    static let rereads = 3

    /// Reads a file of at most one buffer whole: its bytes (exactly `status.size`,
    /// zero-padded if it shrank), the status after, and what changed, if anything.
    private mutating func readSmall(
        _ file: DescriptorHandle, source: String,
        status: FileStatus
    ) throws -> ([UInt8], FileStatus, String?) {
        let want = Int(status.size)
        var got = 0
        while got < want {
            let count = try POSIX.check("read", source) {
                buffer.withUnsafeMutableBytes { read(file.raw, $0.baseAddress! + got, want - got) }
            }
            if count == 0 { break }
            got += count
        }
        var bytes = Array(buffer[0..<got])
        if got < want { bytes += [UInt8](repeating: 0, count: want - got) }
        let more = try hasMore(file, source: source)
        let after = try POSIX.status(of: file, path: source)
        return (bytes, after, Self.change(before: status, after: after, read: UInt64(got), more: more))
    }

    /// Streams a file larger than the buffer in one pass; returns what changed.
    private mutating func streamLarge(
        _ file: DescriptorHandle, source: String, path: PathBytes,
        status: FileStatus
    ) throws -> String? {
        var remaining = status.size
        var read = UInt64(0)
        while remaining > 0 {
            let want = Int(min(UInt64(buffer.count), remaining))
            var count = try POSIX.check("read", source) {
                buffer.withUnsafeMutableBytes { Glibc.read(file.raw, $0.baseAddress!, want) }
            }
            if count == 0 {
                // It shrank: the entry's size is fixed, so zeros make it up (reported).
                buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, want) }
                count = want
            } else {
                read += UInt64(count)
            }
            try buffer.withUnsafeBytes { try writer.writeContent(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            remaining -= UInt64(count)
            bytes += UInt64(count)
            progress?(FileTreeProgress(entries: entries, bytes: bytes, path: path))
        }
        let more = try hasMore(file, source: source)
        let after = try POSIX.status(of: file, path: source)
        return Self.change(before: status, after: after, read: read, more: more)
    }

    /// Whether the file has bytes beyond what was read (it grew).
    private func hasMore(_ file: DescriptorHandle, source: String) throws(DataError) -> Bool {
        var probe: UInt8 = 0
        return try POSIX.check("read", source) { read(file.raw, &probe, 1) } > 0
    }

    static func change(before: FileStatus, after: FileStatus, read: UInt64, more: Bool) -> String? {
        if read < before.size { return "it shrank from \(before.size) to \(read) bytes while read; stored zero-padded" }
        if more || after.size > before.size {
            return "it grew while read; stored its first \(before.size) bytes"
        }
        if after.inode != before.inode || after.device != before.device { return "it was replaced while read" }
        if after.modificationTime != before.modificationTime || after.changeTime != before.changeTime
            || after.size != before.size
        {
            return "it was modified while read"
        }
        return nil
    }
}
