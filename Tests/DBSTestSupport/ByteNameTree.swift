import DBSSystem

/// A tree of real files whose names are bytes a `String` cannot hold, and a byte-exact
/// comparison of two trees: for the library's and the CLI's tests of names that are
/// not UTF-8. Paths are byte arrays without NUL; every call goes to the kernel.
public enum ByteNameTree {
    /// Names that are not valid UTF-8, one of each way UTF-8 can be broken.
    public static let invalidNames: [[UInt8]] = [
        [0xFF] + Array("-ff".utf8),  // a byte UTF-8 never has
        Array("lone-".utf8) + [0x80],  // a continuation byte with no lead
        [0xC0, 0xAE, 0xC0, 0xAE],  // an overlong "..": four bytes, not a way up
        [0xC0, 0xAF] + Array("overlong-slash".utf8),  // an overlong "/": part of the name
        Array("surrogate-".utf8) + [0xED, 0xA0, 0x80],  // U+D800 encoded in UTF-8
        Array("caf".utf8) + [0xE9],  // Latin-1 "café"
        Array("cut-".utf8) + [0xE2, 0x82],  // a sequence cut short
    ]
    /// Valid UTF-8 a restore must neither merge nor rewrite: "é" precomposed (NFC)
    /// and decomposed (NFD) side by side, control characters, a backslash.
    public static let textNames: [[UInt8]] = [
        Array("caf".utf8) + [0xC3, 0xA9],
        Array("caf".utf8) + [0x65, 0xCC, 0x81],
        Array("new\nline".utf8),
        Array("tab\tand\u{1B}[31mescape".utf8),
        Array("c1-\u{85}-next-line".utf8),
        Array("back\\slash".utf8),
    ]
    /// The directory not named in UTF-8, its children, the hard links, the symlink.
    public static let directory: [UInt8] = [0xFE, 0xFF] + Array("-dir".utf8)
    public static let directoryChildren: [[UInt8]] = [
        Array("inside".utf8), [0x80, 0x81], Array("linked-".utf8) + [0xFF],
    ]
    /// The first name of the hard-linked file in byte order (where a backup stores it),
    /// relative to the root, then its other two names.
    public static let hardLinkNames: [[UInt8]] = [
        [0xED, 0xB0, 0x80], directory + [0x2F, 0xC1, 0xBF],
        directory + [0x2F] + Array("linked-".utf8) + [0xFF],
    ]
    public static let symlink: [UInt8] = Array("link-".utf8) + [0xFF]
    public static let symlinkTarget: [UInt8] = directory + [0x2F, 0x80, 0x81]
    /// Entries below the root: every name, the directory and its three, two more
    /// names of the linked file, the symlink.
    public static var entryCount: Int { invalidNames.count + textNames.count + 1 + directoryChildren.count + 2 + 1 }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds the tree at `root` (which must not exist): each name a file "content N".
    public static func make(at root: [UInt8]) throws {
        try check(mkdir(c(root), 0o750), "mkdir", root)
        for (index, name) in (invalidNames + textNames).enumerated() {
            try write(root + [0x2F] + name, Array("content \(index)".utf8))
        }
        let dir = root + [0x2F] + directory
        try check(mkdir(c(dir), 0o750), "mkdir", dir)
        try write(dir + [0x2F] + directoryChildren[0], Array("in a directory not named in UTF-8".utf8))
        try write(dir + [0x2F] + directoryChildren[1], Array("both".utf8))
        let original = dir + [0x2F] + directoryChildren[2]
        try write(original, Array("one inode, three names".utf8))
        for link in hardLinkNames.prefix(2) {
            try check(linkat(AT_FDCWD, c(original), AT_FDCWD, c(root + [0x2F] + link), 0), "link", link)
        }
        try check(Glibc.symlink(c(symlinkTarget), c(root + [0x2F] + symlink)), "symlink", symlink)
    }

    public static func write(_ path: [UInt8], _ bytes: [UInt8]) throws {
        let fd = open(c(path), O_WRONLY | O_CREAT | O_EXCL, 0o640)
        try check(fd, "open", path)
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(description: "short write to \(path)")
        }
    }

    /// What a path holds: type, mode, modification time, content (a file's, up to 64
    /// KiB) or link target bytes, and the inode (to compare hard-link groups).
    public struct Node: Equatable {
        public var type: UInt32
        public var mode: UInt32
        public var mtime: [Int]
        public var content: [UInt8]
        public var inode: UInt64
    }

    /// Every path below `root`, relative, as bytes.
    public static func scan(_ root: [UInt8]) throws -> [[UInt8]: Node] {
        var nodes: [[UInt8]: Node] = [:]
        func visit(_ path: [UInt8], relative: [UInt8]?) throws {
            var status = stat()
            try check(lstat(c(path), &status), "lstat", path)
            let type = status.st_mode & 0o170000
            var content = [UInt8](repeating: 0, count: 65_536)
            var count = 0
            if type == 0o120000 {
                count = content.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { readlink(c(path), $0.baseAddress!, $0.count) }
                }
            } else if type == 0o100000 {
                let fd = open(c(path), O_RDONLY)
                try check(fd, "open", path)
                defer { close(fd) }
                count = content.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            content = Array(content[0..<max(0, count)])
            if let relative {
                nodes[relative] = Node(
                    type: type, mode: status.st_mode & 0o7777,
                    mtime: [status.st_mtim.tv_sec, status.st_mtim.tv_nsec],
                    content: content, inode: UInt64(status.st_ino))
            }
            guard type == 0o040000 else { return }
            guard let stream = opendir(c(path)) else { throw Failure(description: "opendir \(path): errno \(errno)") }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                try visit(path + [0x2F] + name, relative: relative.map { $0 + [0x2F] + name } ?? name)
            }
        }
        try visit(root, relative: nil)
        return nodes
    }

    /// How `restored` differs from `source`: names (bytes), kinds, modes, times,
    /// contents, link targets and hard-link groups. Empty when they are the same.
    public static func differences(_ source: [[UInt8]: Node], _ restored: [[UInt8]: Node]) -> [String] {
        var found: [String] = []
        let missing = Set(source.keys).subtracting(restored.keys)
        let extra = Set(restored.keys).subtracting(source.keys)
        if !missing.isEmpty || !extra.isEmpty { found.append("names differ: missing \(missing), extra \(extra)") }
        for (path, node) in source {
            guard var copy = restored[path] else { continue }
            if copy.inode == node.inode { found.append("\(path) is the same inode, not a restored file") }
            let group = Set(source.filter { $0.value.inode == node.inode }.keys)
            let restoredGroup = Set(restored.filter { $0.value.inode == copy.inode }.keys)
            if group != restoredGroup { found.append("hard links of \(path): \(restoredGroup), expected \(group)") }
            copy.inode = node.inode
            if copy != node { found.append("\(path): \(copy), expected \(node)") }
        }
        return found
    }

    /// Removes `path` and everything below it, whatever bytes the names are
    /// (Foundation's removal takes a String and cannot name them all).
    public static func remove(_ path: [UInt8]) {
        var status = stat()
        guard lstat(c(path), &status) == 0 else { return }
        if status.st_mode & 0o170000 == 0o040000 {
            chmod(c(path), 0o700)
            if let stream = opendir(c(path)) {
                var names: [[UInt8]] = []
                while let entry = readdir(stream) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                    if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
                }
                closedir(stream)
                for name in names { remove(path + [0x2F] + name) }
            }
            rmdir(c(path))
        } else {
            unlink(c(path))
        }
    }

    private static func c(_ path: [UInt8]) -> [CChar] { path.map { CChar(bitPattern: $0) } + [0] }

    private static func check(_ result: Int32, _ operation: String, _ path: [UInt8]) throws {
        if result < 0 { throw Failure(description: "\(operation) \(path): errno \(errno)") }
    }
}
