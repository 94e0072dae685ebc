import Foundation

/// Where the repository's own files are (docs, fixtures, the reference scripts), for
/// tests that read them: from the repository root, found as the nearest directory above
/// this file that holds `Package.swift`, so a test file can move between folders
/// (`Tests/DBSKitTests/<Layer>/`) without counting `..` components.
public enum RepositoryPaths {
    public static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        preconditionFailure("no Package.swift above \(#filePath)")
    }()

    /// `relative` (a '/'-separated path from the repository root) as a URL.
    public static func file(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
