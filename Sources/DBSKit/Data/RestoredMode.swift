/// The permission bits a restore may give an entry.
///
/// Set-user-ID and set-group-ID grant the privileges of the file's owner and group
/// to whoever runs it. They are only safe together with the owner they were set
/// for: a file owned by uid 1234 with mode 4755, restored by root without its owner,
/// would become a set-user-ID-root binary that anyone who could place a file in the
/// backed-up tree planted. So each bit is kept only when the restored entry is owned
/// by the very uid (for set-user-ID) or gid (for set-group-ID) the backup recorded,
/// and dropped otherwise: in every path, overwriting included. Entries that carry no
/// owner (payload version 1) lose both bits.
enum RestoredMode {
    static let setUserID: UInt32 = 0o4000
    static let setGroupID: UInt32 = 0o2000

    /// `mode` (mode & 0o7777) less the bits whose owner the restored entry does not
    /// have. `recorded` is the owner the backup stored (nil when it stored none),
    /// `actual` the owner the entry has on disk after the restore.
    static func permitted(_ mode: UInt32, recorded: (uid: UInt32, gid: UInt32)?,
                          actual: (uid: UInt32, gid: UInt32)) -> UInt32 {
        var result = mode & 0o7777
        if result & setUserID != 0, recorded?.uid != actual.uid { result &= ~setUserID }
        if result & setGroupID != 0, recorded?.gid != actual.gid { result &= ~setGroupID }
        return result
    }
}
