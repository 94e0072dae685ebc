/// The components of an entry path that is safe to create under a destination
/// directory: relative, '/'-separated, no empty, "." or ".." component, no NUL.
///
/// This is the lexical half of restore safety; the other half is that
/// FileTreeWriter descends component by component with O_NOFOLLOW, so a symlink
/// (restored earlier or already there) is never passed through.
enum EntryPath {
    static func components(of path: String) throws(DataError) -> [String] {
        func refuse(_ reason: String) -> DataError { .unsafePath(path: path, reason: reason) }
        guard !path.isEmpty else { throw refuse("the path is empty") }
        guard !path.utf8.contains(0) else { throw refuse("the path contains a NUL byte") }
        guard !path.hasPrefix("/") else { throw refuse("the path is absolute") }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for component in components {
            switch component {
            case "": throw refuse("the path has an empty component")
            case ".": throw refuse("the path has a '.' component")
            case "..": throw refuse("the path has a '..' component, which could leave the destination")
            default: continue
            }
        }
        return components
    }
}
