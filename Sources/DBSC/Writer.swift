// dbs_writer: a backup written entry by entry. The handle is the engine's `NewBackup`.

public import CDBSHeader  // C types in the exported signatures (a non-public @c function is not exported)
import DBSKit

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_open")
#endif
public func dbs_writer_open(
    _ output: UnsafePointer<CChar>?, _ passphraseBytes: UnsafeRawPointer?,
    _ passphraseLength: UInt, _ options: UnsafePointer<dbs_options>?,
    _ writer: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    writer?.pointee = nil
    return cCall {
        guard let writer else { throw UsageError("writer (the out pointer) is NULL") }
        let output = try cString(output, "output")
        let options = try backupOptions(options)
        let key = try passphrase(passphraseBytes, length: passphraseLength, allowEmpty: false)
        writer.pointee = handle(retaining: try NewBackup(destination: output, passphrase: key, options: options))
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_begin_entry")
#endif
public func dbs_writer_begin_entry(_ writer: OpaquePointer?, _ info: UnsafePointer<dbs_entry_info>?) -> Int32 {
    cCall(side: .writing) {
        let writer: NewBackup = try object(writer, "writer")
        guard let info else { throw UsageError("entry info is NULL") }
        try writer.payload.beginEntry(EntryMetadata(info.pointee))
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_write")
#endif
public func dbs_writer_write(_ writer: OpaquePointer?, _ bytes: UnsafeRawPointer?, _ lengthArgument: UInt) -> Int32 {
    cCall(side: .writing) {
        let writer: NewBackup = try object(writer, "writer")
        let length = try cSize(lengthArgument, "length")
        guard length > 0 else { return }
        guard let bytes else { throw UsageError("bytes is NULL with length \(length)") }
        try writer.payload.writeContent(UnsafeRawBufferPointer(start: bytes, count: length))
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_end_entry")
#endif
public func dbs_writer_end_entry(_ writer: OpaquePointer?) -> Int32 {
    cCall(side: .writing) {
        let writer: NewBackup = try object(writer, "writer")
        _ = try writer.payload.endEntry()
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_close")
#endif
public func dbs_writer_close(_ writer: OpaquePointer?) -> Int32 {
    guard let writer else { return Status.ok }
    defer { release(writer, as: NewBackup.self) }
    return cCall(side: .writing) {
        let object: NewBackup = try object(writer, "writer")
        _ = try object.finish()
    }
}

#if compiler(>=6.3)
@c
#else
@_cdecl("dbs_writer_abort")
#endif
public func dbs_writer_abort(_ writer: OpaquePointer?) {
    guard let writer else { return }
    defer { release(writer, as: NewBackup.self) }
    if let object: NewBackup = try? object(writer, "writer") {
        object.abort()
    }
}
