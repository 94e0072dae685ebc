// dbs_report: a RepairReport flattened to plain integers.

internal import CDBSHeader
import DBSKit

extension dbs_report {
    init(_ report: RepairReport, entries: UInt64 = 0, contentBytes: UInt64 = 0) {
        self.init()
        let lost = report.lostShards
        healthy = report.isClean ? 1 : 0
        healed = report.healed ? 1 : 0
        recoverable = lost.isEmpty ? 1 : 0
        shards_from_other_copy = UInt64(report.totalShardsFromOtherCopy)
        shards_rebuilt = UInt64(report.totalShardsRebuilt)
        bytes_corrected = UInt64(report.totalBytesCorrected)
        headers_repaired = UInt64(report.totalHeadersRepaired)
        heads_damaged = UInt64(report.headsDamaged.count)
        stripes_lost = UInt64(report.stripes.count { !$0.lost.isEmpty })
        lost_shards = UInt64(lost.count)
        self.entries = entries
        content_bytes = contentBytes
    }
}

/// Writes `report` to the caller's struct, if one was given.
func store(_ report: dbs_report, to pointer: UnsafeMutablePointer<dbs_report>?) {
    pointer?.pointee = report
}

/// Runs `body`; if it fails because the backup is damaged beyond repair, the
/// report that says what is lost still reaches the caller.
func reportingDamage<T>(to pointer: UnsafeMutablePointer<dbs_report>?, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch BackupError.damagedBeyondRepair(let report) {
        store(dbs_report(report), to: pointer)
        throw BackupError.damagedBeyondRepair(report)
    }
}
