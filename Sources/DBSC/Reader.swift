// dbs_reader: a backup read entry by entry.

public import CDBSHeader  // C types in the exported signatures (a non-public @c function is not exported)
import DBSKit

/// The object behind a dbs_reader handle: the engine's opened backup, and the C
/// strings of the current entry.
final class StreamReader {
    let backup: OpenedBackup
    var payload: PayloadReader { backup.payload }
    let strings = EntryStrings()

    init(path: String, passphrase: SecureBytes, threads: Int, kdfCap: KDFCostCap = .default) throws {
        backup = try OpenedBackup(path: path, passphrase: passphrase, threads: threads, kdfCap: kdfCap)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_open")
#endif
public func dbs_reader_open(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ threads: Int32,
    _ reader: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    openReader(backup, passphraseBytes, passphraseLength, reader) { () throws(UsageError) in
        ReaderSettings(threads: try threadCount(threads), kdfCap: .default, overwrite: false)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_open_with_options")
#endif
public func dbs_reader_open_with_options(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ options: UnsafePointer<dbs_options>?,
    _ reader: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    openReader(backup, passphraseBytes, passphraseLength, reader) { () throws(UsageError) in try readerSettings(options)
    }
}

/// Both opens: the arguments checked in order, then the reader made.
private func openReader(
    _ backup: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?, _ passphraseLength: UInt,
    _ reader: UnsafeMutablePointer<OpaquePointer?>?,
    _ settings: () throws(UsageError) -> ReaderSettings
) -> Int32 {
    reader?.pointee = nil
    return cCall {
        guard let reader else { throw UsageError("reader (the out pointer) is NULL") }
        let path = try cString(backup, "backup")
        let settings = try settings()
        let key = try passphrase(passphraseBytes, length: passphraseLength, allowEmpty: true)
        reader.pointee = handle(
            retaining: try StreamReader(
                path: path, passphrase: key, threads: settings.threads,
                kdfCap: settings.kdfCap))
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_next_entry")
#endif
public func dbs_reader_next_entry(
    _ reader: OpaquePointer?, _ info: UnsafeMutablePointer<dbs_entry_info>?,
    _ hasEntry: UnsafeMutablePointer<Int32>?
) -> Int32 {
    hasEntry?.pointee = 0
    return cCall {
        let reader: StreamReader = try object(reader, "reader")
        guard let info else { throw UsageError("entry info is NULL") }
        guard let hasEntry else { throw UsageError("has_entry is NULL") }
        reader.strings.clear()
        info.pointee = dbs_entry_info()
        guard let entry = try reader.payload.nextEntry() else { return }
        info.pointee = reader.strings.info(for: entry)
        hasEntry.pointee = 1
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_read")
#endif
public func dbs_reader_read(
    _ reader: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacityArgument: UInt,
    _ length: UnsafeMutablePointer<UInt>?
) -> Int32 {
    length?.pointee = 0
    return cCall {
        let reader: StreamReader = try object(reader, "reader")
        guard let length else { throw UsageError("length (the out pointer) is NULL") }
        let capacity = try cSize(capacityArgument, "capacity")
        guard capacity > 0 else { throw UsageError("capacity \(capacity) must be at least 1") }
        guard let buffer else { throw UsageError("buffer is NULL") }
        let bytes = try reader.payload.readContent(maxLength: capacity)
        guard bytes.count <= capacity else {
            throw UsageError("internal: \(bytes.count) bytes read for a capacity of \(capacity)")
        }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        }
        length.pointee = UInt(bytes.count)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_report")
#endif
public func dbs_reader_report(_ reader: OpaquePointer?, _ report: UnsafeMutablePointer<dbs_report>?) -> Int32 {
    cCall {
        let reader: StreamReader = try object(reader, "reader")
        guard let report else { throw UsageError("report is NULL") }
        let summary = reader.payload.summary
        report.pointee = dbs_report(
            reader.backup.repairReport, entries: summary?.entryCount ?? 0,
            contentBytes: summary?.contentBytes ?? 0)
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_reader_close")
#endif
public func dbs_reader_close(_ reader: OpaquePointer?) {
    guard let reader else { return }
    release(reader, as: StreamReader.self)
}
