import DBSSystem

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
    static func permitted(
        _ mode: UInt32, recorded: (uid: UInt32, gid: UInt32)?,
        actual: (uid: UInt32, gid: UInt32)
    ) -> UInt32 {
        var result = mode & 0o7777
        if result & setUserID != 0, recorded?.uid != actual.uid { result &= ~setUserID }
        if result & setGroupID != 0, recorded?.gid != actual.gid { result &= ~setGroupID }
        return result
    }

    /// chown as root (`chown`: the owner `OwnerMapping.target` gives), then chmod with the
    /// set-ID bits the resulting owner permits (chown clears them, so it goes first). The
    /// file's status is read only when the mode has a set-ID bit: without one, `permitted`
    /// is the mode's low 12 bits whoever owns it.
    static func apply(
        _ mode: UInt32, chown: (uid: UInt32, gid: UInt32)?, intended: (uid: UInt32, gid: UInt32)?,
        to descriptor: Int32, path: String
    ) throws(DataError) {
        if let target = chown {
            try POSIX.check("set the owner of", path) { fchown(descriptor, uid_t(target.uid), gid_t(target.gid)) }
        }
        var permitted = mode & 0o7777
        if permitted & (setUserID | setGroupID) != 0 {
            var status = stat()
            try POSIX.check("stat", path) { fstat(descriptor, &status) }
            permitted = Self.permitted(mode, recorded: intended, actual: (UInt32(status.st_uid), UInt32(status.st_gid)))
        }
        try POSIX.check("set the mode of", path) { fchmod(descriptor, mode_t(permitted)) }
    }
}
