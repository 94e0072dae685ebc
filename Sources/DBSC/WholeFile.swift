// Whole-file operations: back up paths, restore, validate, repair. Each checks its C
// arguments first, then runs the engine's own operation (`Engine`, `OpenedBackup`),
// the one the CLI runs.

public import CDBSHeader  // C types in the exported signatures (a non-public @c function is not exported)
import DBSKit

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_backup_paths")
#endif
public func dbs_backup_paths(
    _ output: UnsafePointer<CChar>?, _ paths: UnsafePointer<UnsafePointer<CChar>?>?,
    _ count: UInt, _ passphraseBytes: UnsafeRawPointer?, _ passphraseLength: UInt,
    _ options: UnsafePointer<dbs_options>?
) -> Int32 {
    cCall {
        let output = try cString(output, "output")
        let inputs = try cStrings(paths, count: count, "paths")
        let options = try backupOptions(options)
        let key = try passphrase(passphraseBytes, length: passphraseLength, allowEmpty: false)
        _ = try Engine.backUp(.paths(inputs), to: output, passphrase: key, options: options)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_restore")
#endif
public func dbs_restore(
    _ backup: UnsafePointer<CChar>?, _ directory: UnsafePointer<CChar>?,
    _ passphraseBytes: UnsafeRawPointer?, _ passphraseLength: UInt, _ threads: Int32,
    _ overwrite: Int32, _ report: UnsafeMutablePointer<dbs_report>?
) -> Int32 {
    cCall {
        let settings = ReaderSettings(threads: try threadCount(threads), kdfCap: .default, overwrite: overwrite != 0)
        try restore(backup, directory, passphraseBytes, passphraseLength, settings, report)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_restore_with_options")
#endif
public func dbs_restore_with_options(
    _ backup: UnsafePointer<CChar>?, _ directory: UnsafePointer<CChar>?,
    _ passphraseBytes: UnsafeRawPointer?, _ passphraseLength: UInt,
    _ options: UnsafePointer<dbs_options>?,
    _ report: UnsafeMutablePointer<dbs_report>?
) -> Int32 {
    cCall {
        try restore(backup, directory, passphraseBytes, passphraseLength, try readerSettings(options), report)
    }
}

/// Both restores: the arguments checked in order, then the pipeline the CLI runs.
private func restore(
    _ backup: UnsafePointer<CChar>?, _ directory: UnsafePointer<CChar>?,
    _ passphraseBytes: UnsafeRawPointer?, _ passphraseLength: UInt, _ settings: ReaderSettings,
    _ report: UnsafeMutablePointer<dbs_report>?
) throws {
    let backup = try cString(backup, "backup")
    let directory = try cString(directory, "directory")
    let key = try passphrase(passphraseBytes, length: passphraseLength, allowEmpty: true)
    try reportingDamage(to: report) {
        // A wrong passphrase (or a key derivation above the cap) fails here, before
        // the directory is touched.
        let opened = try OpenedBackup(path: backup, passphrase: key, threads: settings.threads, kdfCap: settings.kdfCap)
        let summary = try opened.restore(into: FileTreeWriter(destination: directory, overwrite: settings.overwrite))
        store(dbs_report(opened.repairReport, entries: summary.entries, contentBytes: summary.bytes), to: report)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_validate")
#endif
public func dbs_validate(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ threads: Int32,
    _ report: UnsafeMutablePointer<dbs_report>?
) -> Int32 {
    cCall {
        let settings = ReaderSettings(threads: try threadCount(threads), kdfCap: .default, overwrite: false)
        try validate(backup, passphraseBytes, passphraseLength, settings, report)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_validate_with_options")
#endif
public func dbs_validate_with_options(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ options: UnsafePointer<dbs_options>?,
    _ report: UnsafeMutablePointer<dbs_report>?
) -> Int32 {
    cCall {
        try validate(backup, passphraseBytes, passphraseLength, try readerSettings(options), report)
    }
}

/// Both validations: structure first (no key), then, with a passphrase, every chunk.
private func validate(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ settings: ReaderSettings,
    _ report: UnsafeMutablePointer<dbs_report>?
) throws {
    let backup = try cString(backup, "backup")
    let key: SecureBytes? =
        passphraseBytes == nil && passphraseLength == 0
        ? nil : try passphrase(passphraseBytes, length: passphraseLength, allowEmpty: true)
    try reportingDamage(to: report) {
        let structure = try BackupValidator.validate(path: backup, threads: settings.threads)
        if case .unrecoverable(let lost) = structure { throw BackupError.damagedBeyondRepair(lost) }
        var result = dbs_report(structure.report)
        if let key {
            let summary = try OpenedBackup(
                path: backup, passphrase: key, threads: settings.threads,
                kdfCap: settings.kdfCap
            ).verifyContents()
            result.entries = summary.entryCount
            result.content_bytes = summary.contentBytes
        }
        store(result, to: report)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_repair")
#endif
public func dbs_repair(
    _ backup: UnsafePointer<CChar>?, _ output: UnsafePointer<CChar>?, _ threads: Int32,
    _ report: UnsafeMutablePointer<dbs_report>?
) -> Int32 {
    cCall {
        let backup = try cString(backup, "backup")
        let output = try cString(output, "output")
        let threads = try threadCount(threads)
        try reportingDamage(to: report) {
            let repaired = try BackupRepairer.repair(source: backup, destination: output, threads: threads)
            store(dbs_report(repaired), to: report)
        }
    }
}
