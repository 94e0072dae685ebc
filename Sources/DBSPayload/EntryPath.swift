import DBSSystem

/// The rule an entry path obeys to be one a restore can create under a destination
/// directory: relative, '/'-separated, no empty, "." or ".." component, no NUL (its
/// length is the payload's own bound, `PayloadFormat.maxPathBytes`). Checked on the bytes (a name that is not
/// UTF-8 is as safe as any other: "\xC0\xAE\xC0\xAE", an overlong "..", is a name of
/// four bytes to the kernel, not a way up).
///
/// One rule for both ends: `PayloadWriter` refuses to write a path that breaks it (so
/// a library caller, the C ABI's `dbs_writer` included, cannot make a backup no
/// restore extracts), `FileTreeWriter` refuses to restore one (a payload from
/// elsewhere), and `dbs backup --name` is checked against it. The payload reader does not apply it: `dbs list` shows any
/// payload as it is.
///
/// This is the lexical half of restore safety; the other half is that
/// FileTreeWriter descends component by component with O_NOFOLLOW, so a symlink
/// (restored earlier or already there) is never passed through.
package enum EntryPath {
    /// Why a path breaks the rule.
    package struct Refusal: Error, Equatable, Sendable {
        package let reason: String
    }

    /// The components of `path`, or why it is not a safe entry path.
    package static func components(of path: PathBytes) throws(Refusal) -> [PathBytes] {
        func refuse(_ reason: String) -> Refusal { Refusal(reason: reason) }
        guard !path.isEmpty else { throw refuse("the path is empty") }
        guard !path.bytes.contains(0) else { throw refuse("the path contains a NUL byte") }
        guard path.bytes[0] != 0x2F else { throw refuse("the path is absolute") }
        let components = path.components
        for component in components {
            switch component.bytes {
            case []: throw refuse("the path has an empty component")
            case [0x2E]: throw refuse("the path has a '.' component")
            case [0x2E, 0x2E]: throw refuse("the path has a '..' component, which could leave the destination")
            default: continue
            }
        }
        return components
    }

    /// Throws why `path` is not a safe entry path.
    package static func check(_ path: PathBytes) throws(Refusal) {
        _ = try components(of: path)
    }
}
