/*
 * dbs.h: the DBS engine as a C library (libDBSC).
 *
 * One encrypted, redundant, self-healing backup file: two copies of the data,
 * Reed-Solomon parity and a checksum of every shard.
 *
 * Conventions
 *  - Every function that can fail returns an int status: DBS_OK (0) or one of the
 *    codes below, the same numbers as the `dbs` command's exit codes. The message of
 *    the last failure on the calling thread is dbs_last_error().
 *  - No function traps on bad input: NULL pointers, bad lengths and out-of-range
 *    values return DBS_ERR_USAGE with a message naming the bad value.
 *  - Strings are UTF-8, NUL-terminated. Paths are file-system paths. Entry paths and
 *    link targets (dbs_entry_info) are bytes: NUL-terminated, usually UTF-8 but not
 *    necessarily (a file system's names are any bytes but NUL).
 *  - Passphrases are passed as bytes plus length. The library copies them into memory
 *    it zeroes after use and never keeps them beyond the call (or, for a writer or
 *    reader, beyond the open call that derives the key).
 *  - Ownership is stated on each function. Objects returned through an out pointer are
 *    owned by the caller and released by the matching close/free function. Structs
 *    the caller passes (options, reports, entry infos) are caller-owned; the library
 *    never keeps a pointer to them after the call returns.
 *  - Thread safety: every function may be called from several threads at once on
 *    different objects. One dbs_writer or dbs_reader must not be used by two threads
 *    at the same time. The library's only global state is built lazily and
 *    thread-safely (Reed-Solomon tables, the per-thread error message).
 */
#ifndef DBS_H
#define DBS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: dbs_options gained max_kdf_memory_kib and max_kdf_time_cost (appended), and
 * dbs_reader_open_with_options.
 * 3: dbs_restore_with_options and dbs_validate_with_options (the cap for the
 * whole-file readers too); dbs_options unchanged. */
#define DBS_ABI_VERSION 3

enum {
    DBS_OK = 0,
    DBS_ERR_FAILURE = 1,          /* any other failure */
    DBS_ERR_USAGE = 2,            /* invalid argument (NULL pointer, bad option value) */
    DBS_ERR_WRONG_PASSPHRASE = 3, /* the passphrase does not open this backup */
    DBS_ERR_DAMAGED = 4,          /* damaged beyond repair, or tampered with */
    DBS_ERR_IO = 5                /* reading or writing a file failed, or the destination exists */
};

/* ------------------------------------------------------------------------------------
 * Version and errors
 * ---------------------------------------------------------------------------------- */

/* The library's version, e.g. "0.1.0". Static string: never free it. */
const char *dbs_version(void);

/* The Reed-Solomon backend this process uses: "isal", "simd" or "scalar" (the
 * environment variable DBS_RS_BACKEND chooses; default the fastest available).
 * Static string: never free it. */
const char *dbs_rs_backend(void);

/* The message of the last failed dbs_ call on the calling thread, "" if none.
 * Never NULL. Owned by the library (one buffer per thread, freed when the thread
 * exits); valid until the next dbs_ call on the same thread. Copy it to keep it. */
const char *dbs_last_error(void);

/* ------------------------------------------------------------------------------------
 * Options for writing a backup
 * ---------------------------------------------------------------------------------- */

enum {
    DBS_CHECKSUM_XXH3_128 = 1,    /* default: locates corruption at ~0.04 ns/byte */
    DBS_CHECKSUM_BLAKE2B_128 = 2
};

enum {
    DBS_COMPRESSION_NONE = 0,     /* store every chunk as is */
    DBS_COMPRESSION_ZSTD = 1      /* zstd at compression_level (-7..22) */
};

/* Every value is stored in the backup, so a reader needs none of them.
 *
 * Forward compatibility: struct_size is sizeof(dbs_options) as the caller compiled
 * it. Always fill the struct with dbs_options_init(&o, sizeof o), then change fields.
 * A later version of the library only appends fields, and gives those a caller did
 * not know their defaults. */
typedef struct dbs_options {
    size_t struct_size;
    int threads;              /* worker threads, 1..256; 0 = one per core (default) */
    int copies;               /* 2 (copy A and copy B, default) or 1 */
    int data_shards;          /* k per stripe, default 239 */
    int parity_shards;        /* m per stripe, default 16; k + m <= 255 */
    int shard_size;           /* bytes per shard, default 4096 */
    int checksum;             /* DBS_CHECKSUM_*, default XXH3-128 */
    int compression;          /* DBS_COMPRESSION_*, default ZSTD */
    int compression_level;    /* zstd level, default 1; ignored with COMPRESSION_NONE */
    uint32_t kdf_time_cost;   /* Argon2id t, default 3 */
    uint32_t kdf_memory_kib;  /* Argon2id m in KiB, default 65536 */
    uint32_t kdf_parallelism; /* Argon2id p, default 4 */
    int verify;               /* nonzero (default): read the file back before renaming */
    int overwrite;            /* nonzero: replace an existing output (default 0) */
    /* Reading (ABI 2): the most Argon2id memory (KiB) and passes a backup may ask for
     * before it can be authenticated; above them it is refused (DBS_ERR_FAILURE, the
     * message naming the parameters). Defaults 1048576 (1 GiB) and 30. Raise them for
     * a backup you trust. Used by the *_with_options readers (dbs_restore_with_options,
     * dbs_validate_with_options, dbs_reader_open_with_options); dbs_restore,
     * dbs_validate and dbs_reader_open use the defaults. */
    uint32_t max_kdf_memory_kib;
    uint32_t max_kdf_time_cost;
} dbs_options;

/* Fills *options with the defaults and sets options->struct_size = struct_size.
 * struct_size is the caller's sizeof(dbs_options): at least the first version's
 * (ABI 1, up to `overwrite`; else DBS_ERR_USAGE). A struct from an older dbs.h gets
 * only the fields it has; the library gives the others their defaults wherever the
 * struct is passed. Ownership: caller-owned struct, written only. */
int dbs_options_init(dbs_options *options, size_t struct_size);

/* ------------------------------------------------------------------------------------
 * Reports
 * ---------------------------------------------------------------------------------- */

/* What a restore, validation or repair found and healed. Plain integers in a
 * caller-owned struct, filled by the library (also when the call fails with
 * DBS_ERR_DAMAGED, to say what is lost). */
typedef struct dbs_report {
    int healthy;                     /* nothing was damaged */
    int healed;                      /* damage was found and all of it was (or can be) repaired */
    int recoverable;                 /* every stripe can be read: healthy or healed */
    uint64_t shards_from_other_copy; /* shards taken from the other copy */
    uint64_t shards_rebuilt;         /* shards rebuilt by Reed-Solomon */
    uint64_t bytes_corrected;        /* single bytes corrected column by column */
    uint64_t headers_repaired;       /* stripe headers repaired */
    uint64_t heads_damaged;          /* damaged copies of the file's head (of 3) */
    uint64_t stripes_lost;           /* stripes beyond repair */
    uint64_t lost_shards;            /* shards beyond repair */
    uint64_t entries;                /* restore/validate with passphrase: entries read */
    uint64_t content_bytes;          /* restore/validate with passphrase: content bytes */
    uint64_t reserved[8];            /* zero; room for later fields */
} dbs_report;

/* ------------------------------------------------------------------------------------
 * Whole-file operations
 * ---------------------------------------------------------------------------------- */

/* Backs up `count` files or directories (recursively; symlinks stored, not followed)
 * into the backup file `output`. The file is written beside `output`, verified
 * (unless options->verify is 0), and renamed into place with mode 0600; on failure
 * nothing appears at `output`. An input "/a/b/dir" is stored as "dir/...".
 * options may be NULL for the defaults. passphrase must not be NULL nor empty.
 * Ownership: all arguments caller-owned, only read during the call. */
int dbs_backup_paths(const char *output, const char *const *paths, size_t count,
                     const void *passphrase, size_t passphrase_len, const dbs_options *options);

/* Restores a backup into `directory` (created if needed), repairing damage on the
 * fly. Refuses entries that would leave `directory`; replaces existing files only if
 * `overwrite` is nonzero (else DBS_ERR_IO, the message naming the file). A wrong
 * passphrase returns DBS_ERR_WRONG_PASSPHRASE before anything is created.
 * threads: 0 = one per core. report may be NULL.
 * Ownership: all arguments caller-owned; *report is written. */
int dbs_restore(const char *backup, const char *directory, const void *passphrase,
                size_t passphrase_len, int threads, int overwrite, dbs_report *report);

/* dbs_restore with options (NULL for the defaults): options->threads,
 * options->overwrite and the key-derivation cap options->max_kdf_memory_kib /
 * max_kdf_time_cost (a backup above it: DBS_ERR_FAILURE, nothing created); the
 * backup shape fields are ignored (the file records its own). ABI 3.
 * Ownership as dbs_restore; *options only read. */
int dbs_restore_with_options(const char *backup, const char *directory, const void *passphrase,
                             size_t passphrase_len, const dbs_options *options, dbs_report *report);

/* Checks a backup. passphrase NULL: structural only (heads, stripe headers, shard
 * checksums of both copies, Reed-Solomon consistency), no key needed. With a
 * passphrase: also decrypts and verifies every chunk, entry hash and the payload
 * hash (nothing is written). Returns DBS_OK when the backup is readable (healthy or
 * healable: see report->healthy/healed), DBS_ERR_DAMAGED when some of it is lost.
 * Ownership: all arguments caller-owned; *report (may be NULL) is written. */
int dbs_validate(const char *backup, const void *passphrase, size_t passphrase_len,
                 int threads, dbs_report *report);

/* dbs_validate with options (NULL for the defaults): options->threads and, with a
 * passphrase, the key-derivation cap options->max_kdf_memory_kib / max_kdf_time_cost
 * (the structural check derives no key and needs no cap); the other fields are
 * ignored. ABI 3. Ownership as dbs_validate; *options only read. */
int dbs_validate_with_options(const char *backup, const void *passphrase, size_t passphrase_len,
                              const dbs_options *options, dbs_report *report);

/* Writes a fresh, clean copy of a damaged backup to `output`, without the
 * passphrase (the repair works on ciphertext). `output` may equal `backup` to
 * repair in place (atomically). DBS_ERR_DAMAGED, and nothing written, if some stripe
 * is beyond repair. Ownership: all arguments caller-owned; *report (may be NULL)
 * is written. */
int dbs_repair(const char *backup, const char *output, int threads, dbs_report *report);

/* ------------------------------------------------------------------------------------
 * Streaming: write entries, read them back
 * ---------------------------------------------------------------------------------- */

enum {
    DBS_ENTRY_FILE = 1,       /* content of exactly `size` bytes */
    DBS_ENTRY_DIRECTORY = 2,  /* no content, size 0 */
    DBS_ENTRY_SYMLINK = 3,    /* no content, size 0, link_target set */
    DBS_ENTRY_RECORDS = 4,    /* content (JSON lines), model_label set */
    /* Payload version 2 (file trees backed up by `dbs backup`); a reader may meet
       them, no content, size 0: */
    DBS_ENTRY_HARDLINK = 5,   /* link_target: the path of an earlier file entry */
    DBS_ENTRY_FIFO = 6,
    DBS_ENTRY_CHARDEV = 7,
    DBS_ENTRY_BLOCKDEV = 8
};

/* One entry of a backup. Paths are relative, '/'-separated.
 * `path` and `link_target` are NUL-terminated byte strings, exactly the bytes the
 * backup stores: usually UTF-8, but a name backed up from a file system may be any
 * bytes but NUL (a reader hands them out unchanged, never a lossy text; a writer
 * takes them as given, no normalisation). */
typedef struct dbs_entry_info {
    const char *path;
    int kind;                 /* DBS_ENTRY_* */
    uint32_t mode;            /* permission bits, mode & 07777 */
    int64_t mtime_sec;        /* modification time, seconds since the epoch */
    uint32_t mtime_nsec;      /* 0..999999999 */
    uint64_t size;            /* exact content size; 0 when streamed */
    const char *link_target;  /* symlinks only, else NULL */
    const char *model_label;  /* records only, else NULL */
    int streamed;             /* nonzero: a file or records entry whose size was not
                                 known in advance (size 0; any amount of content) */
} dbs_entry_info;

typedef struct dbs_writer dbs_writer;
typedef struct dbs_reader dbs_reader;

/* Opens a streaming writer on `output` (written beside it, renamed on close).
 * options may be NULL for the defaults; passphrase must not be NULL nor empty.
 * Ownership: on DBS_OK, *writer is a new object owned by the caller, released by
 * exactly one dbs_writer_close or dbs_writer_abort. On failure *writer is NULL. */
int dbs_writer_open(const char *output, const void *passphrase, size_t passphrase_len,
                    const dbs_options *options, dbs_writer **writer);

/* Starts an entry; every entry is ended with dbs_writer_end_entry, content or not.
 * A path no restore would create is refused with DBS_ERR_USAGE, the message naming
 * the path and the rule it breaks (docs/PAYLOAD.md, "Names"): empty, absolute
 * (starting with '/'), or with an empty, "." or ".." component ("a//b", "a/", "./a",
 * "a/../b"); likewise a hard link whose link_target (another entry's path) breaks
 * it. The rule is on the bytes: "...", "..a" or an overlong "\xc0\xae\xc0\xae" are
 * names. A refused entry is not begun; the writer stays usable.
 * Ownership: *info and its strings are caller-owned, only read during the call. */
int dbs_writer_begin_entry(dbs_writer *writer, const dbs_entry_info *info);

/* Appends content to the open file or records entry (a file receives exactly its
 * declared size in total). bytes may be NULL only if length is 0.
 * Ownership: bytes caller-owned, only read during the call. */
int dbs_writer_write(dbs_writer *writer, const void *bytes, size_t length);

/* Ends the open entry. */
int dbs_writer_end_entry(dbs_writer *writer);

/* Finishes the backup: writes the end of the payload, copy B and the heads, syncs,
 * verifies (if options->verify) and renames into place. ALWAYS releases `writer`,
 * also on failure (then nothing appears at the output). NULL is a no-op (DBS_OK). */
int dbs_writer_close(dbs_writer *writer);

/* Abandons the backup: removes the temporary file and releases `writer`.
 * NULL is a no-op. */
void dbs_writer_abort(dbs_writer *writer);

/* Opens a backup for reading entries. A wrong passphrase returns
 * DBS_ERR_WRONG_PASSPHRASE. threads: 0 = one per core.
 * Ownership: on DBS_OK, *reader is a new object owned by the caller, released by
 * dbs_reader_close. On failure *reader is NULL. */
int dbs_reader_open(const char *backup, const void *passphrase, size_t passphrase_len,
                    int threads, dbs_reader **reader);

/* dbs_reader_open with options (NULL for the defaults): options->threads and the
 * key-derivation cap options->max_kdf_memory_kib / max_kdf_time_cost; the backup
 * shape fields are ignored (the file records its own). Ownership as dbs_reader_open. */
int dbs_reader_open_with_options(const char *backup, const void *passphrase, size_t passphrase_len,
                                 const dbs_options *options, dbs_reader **reader);

/* Moves to the next entry (skipping, but still verifying, what is left of the
 * current one). *has_entry = 1 and *info filled, or *has_entry = 0 at the end of
 * the backup, whose end record (entry count, payload SHA-256) then verified.
 * Ownership: *info is caller-owned; the strings it points to are owned by the
 * reader and valid until the next dbs_reader_next_entry or dbs_reader_close. */
int dbs_reader_next_entry(dbs_reader *reader, dbs_entry_info *info, int *has_entry);

/* Reads up to `capacity` bytes of the current entry's content into buffer;
 * *length = 0 at the end of the entry, once its SHA-256 and size verified (every
 * byte handed out before already passed its chunk's AES-GCM tag). A content that
 * does not verify returns DBS_ERR_DAMAGED.
 * Ownership: buffer caller-owned, written up to *length bytes. */
int dbs_reader_read(dbs_reader *reader, void *buffer, size_t capacity, size_t *length);

/* What the reader has repaired so far (all of it once every entry has been read).
 * Ownership: *report caller-owned, written. */
int dbs_reader_report(dbs_reader *reader, dbs_report *report);

/* Releases `reader`. NULL is a no-op. */
void dbs_reader_close(dbs_reader *reader);

/* ------------------------------------------------------------------------------------
 * Raw Reed-Solomon codec (the code of the backup format: GF(2^8), polynomial 0x11D,
 * systematic, generator roots alpha^0..alpha^(m-1))
 * ---------------------------------------------------------------------------------- */

/* Computes m parity shards from k data shards, each shard_len bytes.
 * 1 <= k, 1 <= m, k + m <= 255, shard_len >= 1. data: k pointers; parity: m pointers.
 * Ownership: every buffer caller-owned; data only read, parity written. */
int dbs_rs_encode(int k, int m, size_t shard_len, const uint8_t *const *data,
                  uint8_t *const *parity);

/* Rebuilds the erased shards of a stripe in place. shards: n = k + m pointers, data
 * shards first, then parity; erased: erased_count distinct indices in 0..n-1 (at
 * most m; may be NULL if erased_count is 0). The erased shards' buffers are
 * overwritten; all other shards must be intact.
 * Ownership: every buffer caller-owned; erased shards written, others only read. */
int dbs_rs_reconstruct(int k, int m, size_t shard_len, uint8_t *const *shards,
                       const int *erased, size_t erased_count);

#ifdef __cplusplus
}
#endif

#endif /* DBS_H */
