// What DBSKit's users (the `dbs` tool, libDBSC, dbs-bench, the tests) see of the
// layers below it, so that `import DBSKit` is all a user of the engine needs.
//
// The Reed-Solomon codec whole: what is `public` there is what a user calls or reads
// (`ReedSolomon` for the C API's raw codec, the backend and CPU facts `dbs version`
// prints); the rest is `package`. Of the system layer only the types DBSKit's own API
// and its users name: not the C library that layer re-exports to the package's
// modules, nor its descriptor and system-call helpers. Nothing of the compressor,
// whose whole surface is `package` (the pipeline, the benchmark and the tests import
// it themselves). Of the security layer the types DBSKit's API takes and returns and
// the front ends name: the passphrase's memory, the KDF's parameters and cap, its error;
// of the payload the entry a front end writes or lists, the payload's reader and
// writer, their error and limits, and the engine's version; of the container the
// checksum a backup is written with and the repair report with the two of its types
// the front ends print (a lost shard, a run of shifted records). The container's
// metadata (descriptor, layout, heads, stripe headers) is `package`.
@_exported import DBSReedSolomon

@_exported import enum DBSIntegrity.ChecksumAlgorithm
@_exported import struct DBSIntegrity.LostShard
@_exported import struct DBSIntegrity.RepairReport
@_exported import struct DBSIntegrity.ShiftedRun
@_exported import enum DBSPayload.DBSKitVersion
@_exported import enum DBSPayload.EntryKind
@_exported import struct DBSPayload.EntryMetadata
@_exported import struct DBSPayload.FileTimestamp
@_exported import enum DBSPayload.PayloadError
@_exported import enum DBSPayload.PayloadFormat
@_exported import class DBSPayload.PayloadReader
@_exported import class DBSPayload.PayloadWriter
@_exported import struct DBSSecurity.KDFCostCap
@_exported import struct DBSSecurity.KDFParameters
@_exported import class DBSSecurity.SecureBytes
@_exported import enum DBSSecurity.SecurityError
@_exported import enum DBSSystem.AllocatorTuning
@_exported import struct DBSSystem.IOError
@_exported import enum DBSSystem.InterruptCleanup
@_exported import struct DBSSystem.PathBytes
