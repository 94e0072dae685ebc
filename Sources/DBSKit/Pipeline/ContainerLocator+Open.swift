import DBSIntegrity
import DBSSystem

extension ContainerLocator {
    /// Opens the file at `path` for reading and locates its container: how every reader
    /// of a backup (restore, validate, repair, inspect, verify-after-write) starts, in
    /// the pipeline's errors.
    static func open(_ path: String) throws(BackupError) -> (file: PositionedFile, located: LocatedContainer) {
        let file: PositionedFile
        do { file = try PositionedFile.openForReading(path) } catch { throw BackupError(error) }
        do { return (file, try locate(file)) } catch { throw BackupError(error) }
    }
}
