import DBSPayload
import DBSSystem

/// User and group names for a backup, by number, looked up once each.
final class OwnerNames {
    private var users: [UInt32: String?] = [:]
    private var groups: [UInt32: String?] = [:]

    /// The owner of a file as a payload records it.
    func owner(of status: FileStatus) -> EntryOwner {
        EntryOwner(uid: status.uid, gid: status.gid, user: userName(status.uid), group: groupName(status.gid))
    }

    private func userName(_ uid: UInt32) -> String? {
        if let known = users[uid] { return known }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        let name =
            getpwuid_r(uid_t(uid), &entry, &buffer, buffer.count, &result) == 0 && result != nil
            ? Self.bounded(String(cString: entry.pw_name)) : nil
        users[uid] = name
        return name
    }

    private func groupName(_ gid: UInt32) -> String? {
        if let known = groups[gid] { return known }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        let name =
            getgrgid_r(gid_t(gid), &entry, &buffer, buffer.count, &result) == 0 && result != nil
            ? Self.bounded(String(cString: entry.gr_name)) : nil
        groups[gid] = name
        return name
    }

    private static func bounded(_ name: String) -> String? {
        (1...PayloadFormat.maxOwnerNameBytes).contains(name.utf8.count) ? name : nil
    }
}

/// Which owner a restore gives an entry: only as root (anyone else cannot give files
/// away), by the recorded name where this system has it, else by number, and always
/// by number with `numericOwner` (tar's --numeric-owner).
final class OwnerMapping {
    let applies: Bool
    let numericOwner: Bool
    private var users: [String: uid_t?] = [:]
    private var groups: [String: gid_t?] = [:]

    init(numericOwner: Bool) {
        applies = geteuid() == 0
        self.numericOwner = numericOwner
    }

    /// The (uid, gid) to chown to; nil when owners are not restored (not root, or
    /// the entry has none).
    func target(for owner: EntryOwner?) -> (uid: UInt32, gid: UInt32)? {
        guard applies, let owner else { return nil }
        guard !numericOwner else { return (owner.uid, owner.gid) }
        let uid = owner.user.flatMap(lookUpUser) ?? owner.uid
        let gid = owner.group.flatMap(lookUpGroup) ?? owner.gid
        return (uid, gid)
    }

    /// The owner a set-user-ID or set-group-ID bit was set for, as this system names
    /// it: the chown target as root; otherwise the recorded numbers (so a user's own
    /// backup keeps its bits, someone else's loses them).
    func intended(for owner: EntryOwner?) -> (uid: UInt32, gid: UInt32)? {
        if let target = target(for: owner) { return target }
        return owner.map { ($0.uid, $0.gid) }
    }

    private func lookUpUser(_ name: String) -> UInt32? {
        if let known = users[name] { return known.map { UInt32($0) } }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        let uid: uid_t? =
            getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0 && result != nil ? entry.pw_uid : nil
        users[name] = uid
        return uid.map { UInt32($0) }
    }

    private func lookUpGroup(_ name: String) -> UInt32? {
        if let known = groups[name] { return known.map { UInt32($0) } }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        let gid: gid_t? =
            getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0 && result != nil ? entry.gr_gid : nil
        groups[name] = gid
        return gid.map { UInt32($0) }
    }
}

/// Reading and writing an entry's extended attributes (ACLs included).
enum ExtendedAttributes {
    /// The attributes of the file open as `descriptor` (or at `path`, not following
    /// a symlink, when given), in name order. A file system without them gives [];
    /// an attribute that cannot be read or is too large is reported to `warn`.
    static func read(
        descriptor: Int32, path: PathBytes?, shownAs shown: String,
        warn: (String) -> Void
    ) -> [ExtendedAttribute] {
        let names: [String]
        do throws(IOError) {
            names = try ExtendedAttributeCalls.names(descriptor: descriptor, path: path, shownAs: shown)
        } catch {
            if error.errno != ENOTSUP && error.errno != EOPNOTSUPP {
                warn("its extended attributes cannot be listed: \(POSIX.errorMessage(error.errno))")
            }
            return []
        }
        var attributes: [ExtendedAttribute] = []
        var total = 0
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard (1...PayloadFormat.maxAttributeNameBytes).contains(name.utf8.count) else {
                warn("extended attribute '\(name)' not kept: its name is too long")
                continue
            }
            let value: [UInt8]
            do throws(IOError) {
                value = try ExtendedAttributeCalls.value(
                    descriptor: descriptor, path: path, name: name,
                    limit: PayloadFormat.maxAttributeValueBytes, shownAs: shown)
            } catch {
                if error.errno == ENODATA { continue }  // removed meanwhile
                warn("extended attribute '\(name)' not kept: \(POSIX.errorMessage(error.errno))")
                continue
            }
            total += name.utf8.count + value.count
            guard total <= PayloadFormat.maxAttributeTotalBytes,
                attributes.count < PayloadFormat.maxExtendedAttributes
            else {
                warn(
                    "extended attribute '\(name)' not kept: the entry's attributes exceed \(PayloadFormat.maxAttributeTotalBytes) bytes"
                )
                return attributes
            }
            attributes.append(ExtendedAttribute(name: name, value: value))
        }
        return attributes
    }

    /// Sets `attributes` on the file open as `descriptor` (or at `path`). `security.*`
    /// only as root; an attribute the file system or the kernel refuses is a warning,
    /// not a failure. Runs after chmod, so a POSIX ACL ends as it was stored.
    static func apply(
        _ attributes: [ExtendedAttribute], descriptor: Int32, path: PathBytes?,
        shownAs shown: String, warn: (String) -> Void
    ) {
        let root = geteuid() == 0
        for attribute in attributes {
            if !root, attribute.name.hasPrefix("security.") || attribute.name.hasPrefix("trusted.") {
                warn("extended attribute '\(attribute.name)' not restored: only root restores security.* and trusted.*")
                continue
            }
            do throws(IOError) {
                try ExtendedAttributeCalls.set(
                    descriptor: descriptor, path: path, name: attribute.name,
                    value: attribute.value, shownAs: shown)
            } catch {
                let why =
                    error.errno == ENOTSUP || error.errno == EOPNOTSUPP
                    ? "the file system does not support it" : POSIX.errorMessage(error.errno)
                warn("extended attribute '\(attribute.name)' not restored: \(why)")
            }
        }
    }
}
