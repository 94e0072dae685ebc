/*
 * dbs_abi_test.c: the C API (include/dbs.h) exercised from plain C, linked against
 * libDBSC. Exits non-zero with a message naming the failed check; run by
 * scripts/test-cabi.sh, also under valgrind.
 *
 * Usage: dbs_abi_test [scratch-directory]   (default: a new directory under /tmp)
 */
#define _GNU_SOURCE
#include "dbs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int checks = 0;

static void fail(const char *file, int line, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n  dbs_last_error(): %s\n", dbs_last_error());
    va_end(args);
    exit(1);
}

#define CHECK(condition, ...)                                                  \
    do {                                                                       \
        checks++;                                                              \
        if (!(condition)) fail(__FILE__, __LINE__, __VA_ARGS__);               \
    } while (0)

/* A call that must succeed. */
#define CHECK_OK(call)                                                         \
    do {                                                                       \
        int status_ = (call);                                                  \
        CHECK(status_ == DBS_OK, "%s returned %d, expected DBS_OK", #call, status_); \
    } while (0)

/* A call that must fail with `expected` and leave a message. */
#define CHECK_STATUS(call, expected)                                           \
    do {                                                                       \
        int status_ = (call);                                                  \
        CHECK(status_ == (expected), "%s returned %d, expected %d (%s)", #call, status_, \
              (expected), #expected);                                          \
        CHECK(dbs_last_error()[0] != '\0', "%s left no message", #call);       \
    } while (0)

static const char passphrase[] = "correct horse battery staple";
#define PASS passphrase, strlen(passphrase)

static char scratch[2048];

static const char *path_in(const char *name) {
    static char paths[16][4096];
    static int next = 0;
    char *path = paths[next++ % 16];
    snprintf(path, 4096, "%s/%s", scratch, name);
    return path;
}

/* Deterministic bytes: a xorshift stream, so contents differ file to file. */
static void fill(uint8_t *bytes, size_t length, uint64_t seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < length; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes[i] = (uint8_t)x;
    }
}

static void write_file(const char *path, const uint8_t *bytes, size_t length) {
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL, "create %s: %s", path, strerror(errno));
    CHECK(fwrite(bytes, 1, length, file) == length, "write %s", path);
    CHECK(fclose(file) == 0, "close %s", path);
}

/* The whole file, malloc'd; *length set. */
static uint8_t *read_file(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    CHECK(file != NULL, "open %s: %s", path, strerror(errno));
    CHECK(fseek(file, 0, SEEK_END) == 0, "seek %s", path);
    long size = ftell(file);
    CHECK(size >= 0, "size of %s", path);
    rewind(file);
    uint8_t *bytes = malloc((size_t)size + 1);
    CHECK(bytes != NULL, "malloc");
    CHECK(fread(bytes, 1, (size_t)size, file) == (size_t)size, "read %s", path);
    fclose(file);
    *length = (size_t)size;
    return bytes;
}

static void check_same_file(const char *path, const uint8_t *expected, size_t length) {
    size_t actual_length = 0;
    uint8_t *actual = read_file(path, &actual_length);
    CHECK(actual_length == length, "%s holds %zu bytes, expected %zu", path, actual_length, length);
    CHECK(memcmp(actual, expected, length) == 0, "%s differs from what was backed up", path);
    free(actual);
}

static int exists(const char *path) {
    struct stat status;
    return lstat(path, &status) == 0;
}

/* Options that keep the test fast: a cheap Argon2id (the file records it). */
static dbs_options fast_options(void) {
    dbs_options options;
    int status = dbs_options_init(&options, sizeof options);
    CHECK(status == DBS_OK, "dbs_options_init returned %d", status);
    options.threads = 2;
    options.kdf_time_cost = 1;
    options.kdf_memory_kib = 1024;
    options.kdf_parallelism = 1;
    return options;
}

/* ---------------------------------------------------------------------------------- */

static void test_version(void) {
    const char *version = dbs_version();
    const char *backend = dbs_rs_backend();
    CHECK(version != NULL && version[0] != '\0', "dbs_version() is empty");
    CHECK(backend != NULL, "dbs_rs_backend() is NULL");
    CHECK(strcmp(backend, "isal") == 0 || strcmp(backend, "simd") == 0 || strcmp(backend, "scalar") == 0,
          "dbs_rs_backend() is '%s'", backend);
    CHECK(dbs_version() == version, "dbs_version() is not one static string");
    CHECK(dbs_last_error() != NULL, "dbs_last_error() is NULL");
    printf("version %s, Reed-Solomon backend %s\n", version, backend);
}

static void test_options(void) {
    dbs_options options;
    CHECK_OK(dbs_options_init(&options, sizeof options));
    CHECK(options.struct_size == sizeof options, "struct_size %zu", options.struct_size);
    CHECK(options.copies == 2 && options.data_shards == 239 && options.parity_shards == 16,
          "defaults copies %d k %d m %d", options.copies, options.data_shards, options.parity_shards);
    CHECK(options.shard_size == 4096 && options.checksum == DBS_CHECKSUM_XXH3_128, "defaults shard/checksum");
    CHECK(options.compression == DBS_COMPRESSION_ZSTD && options.verify == 1 && options.overwrite == 0,
          "defaults compression/verify/overwrite");
    CHECK(options.kdf_time_cost == 3 && options.kdf_memory_kib == 65536 && options.kdf_parallelism == 4,
          "defaults kdf");

    /* A caller compiled against ABI 1's dbs.h: its struct ends at `overwrite`. Init
     * writes only those bytes, and the struct is accepted where options are taken. */
    const size_t first_version = offsetof(dbs_options, max_kdf_memory_kib);
    unsigned char old_struct[sizeof(dbs_options) + 16];
    memset(old_struct, 0xA5, sizeof old_struct);
    CHECK_OK(dbs_options_init((dbs_options *)old_struct, first_version));
    for (size_t i = first_version; i < sizeof old_struct; i++)
        CHECK(old_struct[i] == 0xA5, "init wrote byte %zu past an ABI 1 struct", i);
    dbs_options first;
    memcpy(&first, old_struct, first_version);
    CHECK(first.struct_size == first_version && first.copies == 2 && first.verify == 1,
          "ABI 1 struct: size %zu copies %d", first.struct_size, first.copies);
    printf("options: defaults ok, ABI 1 struct ok\n");
}

/* A small tree: tree/a.txt, tree/empty, tree/sub/b.bin (300 KB), tree/sub/link -> ../a.txt */
static uint8_t tree_a[] = "hello from the C API\n";
static uint8_t *tree_b;
static const size_t tree_b_length = 300 * 1000 + 7;

static void make_tree(void) {
    CHECK(mkdir(path_in("tree"), 0755) == 0, "mkdir tree: %s", strerror(errno));
    CHECK(mkdir(path_in("tree/sub"), 0750) == 0, "mkdir tree/sub");
    write_file(path_in("tree/a.txt"), tree_a, sizeof tree_a - 1);
    write_file(path_in("tree/empty"), tree_a, 0);
    tree_b = malloc(tree_b_length);
    fill(tree_b, tree_b_length, 1);
    write_file(path_in("tree/sub/b.bin"), tree_b, tree_b_length);
    CHECK(symlink("../a.txt", path_in("tree/sub/link")) == 0, "symlink");
}

static void check_tree(const char *root) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tree/a.txt", root);
    check_same_file(path, tree_a, sizeof tree_a - 1);
    snprintf(path, sizeof path, "%s/tree/empty", root);
    check_same_file(path, tree_a, 0);
    snprintf(path, sizeof path, "%s/tree/sub/b.bin", root);
    check_same_file(path, tree_b, tree_b_length);
    snprintf(path, sizeof path, "%s/tree/sub/link", root);
    char target[64] = {0};
    CHECK(readlink(path, target, sizeof target - 1) == 8 && strcmp(target, "../a.txt") == 0,
          "link restored as '%s'", target);
    struct stat status;
    snprintf(path, sizeof path, "%s/tree/sub", root);
    CHECK(stat(path, &status) == 0 && (status.st_mode & 07777) == 0750, "tree/sub mode %o",
          status.st_mode & 07777);
}

static void test_whole_file_round_trip(void) {
    make_tree();
    dbs_options options = fast_options();
    const char *inputs[] = {path_in("tree")};
    CHECK_OK(dbs_backup_paths(path_in("tree.dbs"), inputs, 1, PASS, &options));
    CHECK(exists(path_in("tree.dbs")), "no backup file");

    /* Refused: the output exists and overwrite is off. */
    CHECK_STATUS(dbs_backup_paths(path_in("tree.dbs"), inputs, 1, PASS, &options), DBS_ERR_IO);

    /* An ABI 1 caller's smaller struct is taken, its unknown fields defaulted. */
    dbs_options first_version = fast_options();
    first_version.struct_size = offsetof(dbs_options, max_kdf_memory_kib);
    CHECK_OK(dbs_backup_paths(path_in("tree-abi1.dbs"), inputs, 1, PASS, &first_version));
    CHECK_OK(dbs_validate(path_in("tree-abi1.dbs"), PASS, 2, NULL));

    dbs_report report;
    memset(&report, 0xAB, sizeof report);
    CHECK_OK(dbs_restore(path_in("tree.dbs"), path_in("restored"), PASS, 2, 0, &report));
    check_tree(path_in("restored"));
    CHECK(report.healthy == 1 && report.healed == 0 && report.recoverable == 1, "report flags %d %d %d",
          report.healthy, report.healed, report.recoverable);
    CHECK(report.entries == 6, "restored %llu entries, expected 6", (unsigned long long)report.entries);
    CHECK(report.content_bytes == sizeof tree_a - 1 + tree_b_length, "restored %llu bytes",
          (unsigned long long)report.content_bytes);
    CHECK(report.shards_from_other_copy == 0 && report.lost_shards == 0 && report.reserved[0] == 0,
          "clean report has counts");

    CHECK_OK(dbs_validate(path_in("tree.dbs"), NULL, 0, 2, &report));
    CHECK(report.healthy == 1, "structural validation of a clean file is not healthy");
    CHECK_OK(dbs_validate(path_in("tree.dbs"), PASS, 2, &report));
    CHECK(report.healthy == 1 && report.entries == 6, "full validation: healthy %d entries %llu",
          report.healthy, (unsigned long long)report.entries);
    printf("whole file: backup, restore, validate ok\n");
}

static void test_wrong_passphrase(void) {
    static const char wrong[] = "not the passphrase";
    dbs_report report;
    CHECK_STATUS(dbs_restore(path_in("tree.dbs"), path_in("wrong"), wrong, strlen(wrong), 2, 0, &report),
                 DBS_ERR_WRONG_PASSPHRASE);
    CHECK(!exists(path_in("wrong")), "a wrong passphrase created the restore directory");
    CHECK_STATUS(dbs_validate(path_in("tree.dbs"), wrong, strlen(wrong), 2, &report), DBS_ERR_WRONG_PASSPHRASE);
    dbs_reader *reader = (dbs_reader *)&report; /* must be reset to NULL */
    CHECK_STATUS(dbs_reader_open(path_in("tree.dbs"), wrong, strlen(wrong), 2, &reader), DBS_ERR_WRONG_PASSPHRASE);
    CHECK(reader == NULL, "a failed open left a reader");
    printf("wrong passphrase: refused before any output\n");
}

static void test_healing(void) {
    size_t length = 0;
    uint8_t *bytes = read_file(path_in("tree.dbs"), &length);
    /* Copy A lies between the first head and copy B's head in the middle; its data
     * shards come first, then zero padding up to k shards, then parity. A run of
     * zeros a sixteenth into the file lands in copy A's data (300 KB of random
     * bytes): it must actually change bytes, or the test would prove nothing. */
    size_t offset = length / 16, run = 64 * 1024, changed = 0;
    CHECK(offset + run < length / 2, "the backup is too small (%zu bytes) to damage copy A alone", length);
    for (size_t i = offset; i < offset + run; i++) changed += bytes[i] != 0;
    CHECK(changed > run / 2, "only %zu of the %zu bytes to zero are not zero already", changed, run);
    memset(bytes + offset, 0, run);
    bytes[length / 8] ^= 0x40; /* and one flipped bit further on */
    write_file(path_in("damaged.dbs"), bytes, length);
    free(bytes);

    dbs_report report;
    CHECK_OK(dbs_validate(path_in("damaged.dbs"), NULL, 0, 2, &report));
    CHECK(report.healthy == 0 && report.healed == 1 && report.recoverable == 1,
          "validation of the damaged file: healthy %d healed %d recoverable %d", report.healthy, report.healed,
          report.recoverable);

    CHECK_OK(dbs_restore(path_in("damaged.dbs"), path_in("healed"), PASS, 2, 0, &report));
    check_tree(path_in("healed"));
    CHECK(report.healed == 1 && report.healthy == 0 && report.recoverable == 1, "restore report: healed %d",
          report.healed);
    CHECK(report.shards_from_other_copy + report.shards_rebuilt + report.headers_repaired > 0,
          "restore healed nothing it reports");
    printf("healing: %llu shards from copy B, %llu rebuilt, %llu headers repaired\n",
           (unsigned long long)report.shards_from_other_copy, (unsigned long long)report.shards_rebuilt,
           (unsigned long long)report.headers_repaired);

    CHECK_OK(dbs_repair(path_in("damaged.dbs"), path_in("repaired.dbs"), 2, &report));
    CHECK(report.healed == 1, "repair healed nothing");
    CHECK_OK(dbs_validate(path_in("repaired.dbs"), PASS, 2, &report));
    CHECK(report.healthy == 1, "the repaired file is not healthy");
    printf("repair: a clean file written\n");
}

/* The same region zeroed in both copies, wider than the parity can rebuild: refused
 * with DBS_ERR_DAMAGED, and the report still says what is lost. */
static void test_beyond_repair(void) {
    size_t length = 0;
    uint8_t *bytes = read_file(path_in("tree.dbs"), &length);
    size_t run = 200 * 1024;
    memset(bytes + length / 16, 0, run);
    memset(bytes + length / 2 + length / 16, 0, run); /* copy B: same place, one copy later */
    write_file(path_in("lost.dbs"), bytes, length);
    free(bytes);

    dbs_report report;
    memset(&report, 0, sizeof report);
    CHECK_STATUS(dbs_validate(path_in("lost.dbs"), NULL, 0, 2, &report), DBS_ERR_DAMAGED);
    CHECK(report.recoverable == 0 && report.stripes_lost == 1 && report.lost_shards > 16,
          "validate report: recoverable %d stripes lost %llu shards lost %llu", report.recoverable,
          (unsigned long long)report.stripes_lost, (unsigned long long)report.lost_shards);
    memset(&report, 0, sizeof report);
    CHECK_STATUS(dbs_restore(path_in("lost.dbs"), path_in("lost"), PASS, 2, 0, &report), DBS_ERR_DAMAGED);
    CHECK(report.recoverable == 0 && report.lost_shards > 16, "restore report: recoverable %d lost %llu",
          report.recoverable, (unsigned long long)report.lost_shards);
    CHECK_STATUS(dbs_repair(path_in("lost.dbs"), path_in("lost-repaired.dbs"), 2, &report), DBS_ERR_DAMAGED);
    CHECK(!exists(path_in("lost-repaired.dbs")), "a failed repair left its output");
    printf("beyond repair: %llu shards lost, refused with DBS_ERR_DAMAGED\n", (unsigned long long)report.lost_shards);
}

/* ---------------------------------------------------------------------------------- */

/* Entry paths and link targets are bytes both ways: a name that is not UTF-8 goes in
 * and comes out exactly. */
static void test_byte_names(void) {
    dbs_options options = fast_options();
    dbs_writer *writer = NULL;
    CHECK_OK(dbs_writer_open(path_in("names.dbs"), PASS, &options, &writer));
    static const char dir[] = "caf\xe9-\xff";            /* Latin-1, and a byte UTF-8 never has */
    static const char link_path[] = "caf\xe9-\xff/\xed\xa0\x80"; /* a surrogate encoded in UTF-8 */
    static const char target[] = "\xc0\xae\xc0\xae/\x80";    /* an overlong "..", a lone continuation */
    dbs_entry_info directory = {.path = dir, .kind = DBS_ENTRY_DIRECTORY, .mode = 0755};
    CHECK_OK(dbs_writer_begin_entry(writer, &directory));
    CHECK_OK(dbs_writer_end_entry(writer));
    dbs_entry_info symlink_entry = {.path = link_path, .kind = DBS_ENTRY_SYMLINK, .mode = 0777, .link_target = target};
    CHECK_OK(dbs_writer_begin_entry(writer, &symlink_entry));
    CHECK_OK(dbs_writer_end_entry(writer));
    dbs_entry_info empty = {.path = "", .kind = DBS_ENTRY_DIRECTORY, .mode = 0755};
    CHECK_STATUS(dbs_writer_begin_entry(writer, &empty), DBS_ERR_USAGE);
    CHECK_OK(dbs_writer_close(writer));

    dbs_reader *reader = NULL;
    CHECK_OK(dbs_reader_open(path_in("names.dbs"), PASS, 2, &reader));
    dbs_entry_info info;
    int has_entry = 0;
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && strcmp(info.path, dir) == 0 && info.kind == DBS_ENTRY_DIRECTORY, "directory name bytes differ");
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && strcmp(info.path, link_path) == 0 && strcmp(info.link_target, target) == 0, "symlink bytes differ");
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(!has_entry, "an entry after the last (the refused one was not written)");
    dbs_reader_close(reader);
    printf("names that are not UTF-8: written and read back byte for byte\n");
}

/* The writer refuses a path no restore would create, as every DBS writer does
 * (docs/PAYLOAD.md, "Names"): DBS_ERR_USAGE, the message naming the path and the rule
 * it breaks, nothing written, the writer still usable. (A NUL inside a path cannot
 * be passed through a C string; the rule refuses it too.) */
static void test_unsafe_paths(void) {
    static const struct {
        const char *path;
        const char *rule;
    } unsafe[] = {
        {"../escaped", "'..' component"},
        {"a/../../escaped", "'..' component"},
        {"..", "'..' component"},
        {"/etc/escaped", "absolute"},
        {"//twice", "absolute"},
        {"./a", "'.' component"},
        {"a/./b", "'.' component"},
        {"a//b", "empty component"},
        {"a/", "empty component"},
    };
    dbs_options options = fast_options();
    dbs_writer *writer = NULL;
    CHECK_OK(dbs_writer_open(path_in("unsafe.dbs"), PASS, &options, &writer));
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        dbs_entry_info file = {.path = unsafe[i].path, .kind = DBS_ENTRY_FILE, .mode = 0644, .size = 1};
        CHECK_STATUS(dbs_writer_begin_entry(writer, &file), DBS_ERR_USAGE);
        char quoted[256];
        snprintf(quoted, sizeof quoted, "'%s'", unsafe[i].path);
        CHECK(strstr(dbs_last_error(), quoted) && strstr(dbs_last_error(), unsafe[i].rule),
              "refusing %s, the message names neither the path nor \"%s\": %s", quoted, unsafe[i].rule,
              dbs_last_error());
        /* Refused, not opened: content now is content outside an entry. */
        CHECK_STATUS(dbs_writer_write(writer, "x", 1), DBS_ERR_USAGE);
    }
    /* A hard link's target is another entry's path: the same rule. */
    dbs_entry_info link = {.path = "inside", .kind = DBS_ENTRY_HARDLINK, .mode = 0644, .link_target = "../outside"};
    CHECK_STATUS(dbs_writer_begin_entry(writer, &link), DBS_ERR_USAGE);
    CHECK(strstr(dbs_last_error(), "'inside'") && strstr(dbs_last_error(), "hard link target") &&
              strstr(dbs_last_error(), "'..' component"),
          "hard link refusal: %s", dbs_last_error());
    /* Names that merely look like a way up are names: "...", "..a", an overlong "..". */
    static const char *const safe[] = {"...", "..a", "a../b", "\xc0\xae\xc0\xae"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        dbs_entry_info file = {.path = safe[i], .kind = DBS_ENTRY_FILE, .mode = 0644, .size = 1};
        CHECK_OK(dbs_writer_begin_entry(writer, &file));
        CHECK_OK(dbs_writer_write(writer, "x", 1));
        CHECK_OK(dbs_writer_end_entry(writer));
    }
    CHECK_OK(dbs_writer_close(writer));

    dbs_reader *reader = NULL;
    CHECK_OK(dbs_reader_open(path_in("unsafe.dbs"), PASS, 2, &reader));
    dbs_entry_info info;
    int has_entry = 0;
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
        CHECK(has_entry && strcmp(info.path, safe[i]) == 0, "entry %zu is not '%s'", i, safe[i]);
    }
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(!has_entry, "a refused entry was written");
    dbs_reader_close(reader);
    printf("unsafe entry paths: %zu refused with their rule, %zu look-alikes written\n",
           sizeof unsafe / sizeof unsafe[0] + 1, sizeof safe / sizeof safe[0]);
}

enum { STREAM_BIG = 2 * 1024 * 1024 + 333 };
static const char records[] = "{\"model\": \"shop.item\", \"pk\": 1}\n{\"model\": \"shop.item\", \"pk\": 2}\n";

static void test_streaming(void) {
    dbs_options options = fast_options();
    options.data_shards = 20;
    options.parity_shards = 4;
    dbs_writer *writer = NULL;
    CHECK_OK(dbs_writer_open(path_in("stream.dbs"), PASS, &options, &writer));
    CHECK(writer != NULL, "no writer");

    dbs_entry_info directory = {.path = "docs", .kind = DBS_ENTRY_DIRECTORY, .mode = 0755,
                                .mtime_sec = 1700000000, .mtime_nsec = 5};
    CHECK_OK(dbs_writer_begin_entry(writer, &directory));
    CHECK_OK(dbs_writer_end_entry(writer));

    uint8_t *big = malloc(STREAM_BIG);
    fill(big, STREAM_BIG, 2);
    dbs_entry_info file = {.path = "docs/big.bin", .kind = DBS_ENTRY_FILE, .mode = 0640,
                           .mtime_sec = 1700000001, .mtime_nsec = 999999999, .size = STREAM_BIG};
    CHECK_OK(dbs_writer_begin_entry(writer, &file));
    /* Misuse is refused and leaves the writer usable: a second entry while one is open. */
    CHECK_STATUS(dbs_writer_begin_entry(writer, &directory), DBS_ERR_USAGE);
    for (size_t offset = 0; offset < STREAM_BIG;) {
        size_t piece = offset % 3 == 0 ? 100000 : 77777;
        if (piece > STREAM_BIG - offset) piece = STREAM_BIG - offset;
        CHECK_OK(dbs_writer_write(writer, big + offset, piece));
        offset += piece;
    }
    CHECK_STATUS(dbs_writer_write(writer, big, 1), DBS_ERR_USAGE); /* beyond the declared size */
    CHECK_OK(dbs_writer_write(writer, NULL, 0));
    CHECK_OK(dbs_writer_end_entry(writer));

    dbs_entry_info batch = {.path = "records/0001", .kind = DBS_ENTRY_RECORDS, .mode = 0600,
                            .mtime_sec = -5, .model_label = "shop.Item", .streamed = 1};
    CHECK_OK(dbs_writer_begin_entry(writer, &batch));
    CHECK_OK(dbs_writer_write(writer, records, strlen(records)));
    CHECK_OK(dbs_writer_end_entry(writer));

    dbs_entry_info link = {.path = "docs/latest", .kind = DBS_ENTRY_SYMLINK, .mode = 0777,
                           .link_target = "big.bin"};
    CHECK_OK(dbs_writer_begin_entry(writer, &link));
    CHECK_OK(dbs_writer_end_entry(writer));
    CHECK_OK(dbs_writer_close(writer));

    dbs_reader *reader = NULL;
    CHECK_OK(dbs_reader_open(path_in("stream.dbs"), PASS, 2, &reader));
    dbs_entry_info info;
    int has_entry = 0;
    uint8_t *buffer = malloc(STREAM_BIG + 1);

    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && strcmp(info.path, "docs") == 0 && info.kind == DBS_ENTRY_DIRECTORY && info.mode == 0755 &&
          info.mtime_sec == 1700000000 && info.mtime_nsec == 5 && info.link_target == NULL,
          "entry 1 is '%s' kind %d", has_entry ? info.path : "(none)", info.kind);
    size_t n = 99;
    CHECK_OK(dbs_reader_read(reader, buffer, 16, &n));
    CHECK(n == 0, "a directory has content");

    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && strcmp(info.path, "docs/big.bin") == 0 && info.kind == DBS_ENTRY_FILE &&
          info.size == STREAM_BIG && info.mode == 0640 && info.mtime_nsec == 999999999, "entry 2");
    size_t total = 0;
    for (;;) {
        size_t capacity = total % 2 ? 65536 : 12345;
        CHECK_OK(dbs_reader_read(reader, buffer + total, capacity, &n));
        CHECK(n <= capacity, "read %zu bytes into %zu", n, capacity);
        if (n == 0) break;
        total += n;
        CHECK(total <= STREAM_BIG, "more content than written");
    }
    CHECK(total == STREAM_BIG && memcmp(buffer, big, STREAM_BIG) == 0, "big.bin read back differs (%zu bytes)",
          total);

    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && info.kind == DBS_ENTRY_RECORDS && strcmp(info.model_label, "shop.Item") == 0 &&
          info.mtime_sec == -5 && info.streamed == 1 && info.size == 0, "entry 3");
    CHECK_OK(dbs_reader_read(reader, buffer, STREAM_BIG, &n));
    CHECK(n == strlen(records) && memcmp(buffer, records, n) == 0, "records read back differ");

    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry && info.kind == DBS_ENTRY_SYMLINK && strcmp(info.link_target, "big.bin") == 0 &&
          strcmp(info.path, "docs/latest") == 0, "entry 4");

    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(!has_entry, "an entry after the last");
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(!has_entry, "an entry after the end");
    dbs_report report;
    CHECK_OK(dbs_reader_report(reader, &report));
    CHECK(report.healthy == 1 && report.entries == 4, "reader report: healthy %d entries %llu", report.healthy,
          (unsigned long long)report.entries);
    dbs_reader_close(reader);

    /* An aborted writer leaves nothing behind; a closed-on-error one neither. */
    CHECK_OK(dbs_writer_open(path_in("aborted.dbs"), PASS, &options, &writer));
    CHECK_OK(dbs_writer_begin_entry(writer, &file));
    CHECK_OK(dbs_writer_write(writer, big, 1000));
    dbs_writer_abort(writer);
    CHECK(!exists(path_in("aborted.dbs")), "an aborted writer left its output");
    CHECK_OK(dbs_writer_open(path_in("unfinished.dbs"), PASS, &options, &writer));
    CHECK_OK(dbs_writer_begin_entry(writer, &file));
    CHECK_STATUS(dbs_writer_close(writer), DBS_ERR_USAGE); /* an entry is still open */
    CHECK(!exists(path_in("unfinished.dbs")), "a failed close left its output");

    free(big);
    free(buffer);
    printf("streaming: 4 entries written and read back\n");
}

/* ---------------------------------------------------------------------------------- */

static void rs_round_trip(int k, int m, size_t length, const int *erased, size_t erased_count) {
    int n = k + m;
    uint8_t **shards = calloc((size_t)n, sizeof *shards);
    uint8_t **original = calloc((size_t)n, sizeof *original);
    for (int i = 0; i < n; i++) {
        shards[i] = malloc(length);
        original[i] = malloc(length);
        if (i < k) fill(shards[i], length, 100 + (uint64_t)i);
    }
    CHECK_OK(dbs_rs_encode(k, m, length, (const uint8_t *const *)shards, shards + k));
    for (int i = 0; i < n; i++) memcpy(original[i], shards[i], length);
    for (size_t e = 0; e < erased_count; e++) memset(shards[erased[e]], 0x5A, length);
    CHECK_OK(dbs_rs_reconstruct(k, m, length, shards, erased, erased_count));
    for (int i = 0; i < n; i++) {
        CHECK(memcmp(shards[i], original[i], length) == 0, "RS(%d,%d) len %zu: shard %d differs after reconstruct",
              n, k, length, i);
        free(shards[i]);
        free(original[i]);
    }
    free(shards);
    free(original);
}

static void test_raw_codec(void) {
    /* Known answers: with m = 1 the generator is (x - 1), so the parity is the XOR of
     * the data shards. */
    uint8_t d0[5] = {1, 2, 3, 4, 0xFF}, d1[5] = {0x10, 0x20, 0x30, 0x40, 0x0F}, p[5];
    const uint8_t *data[] = {d0, d1};
    uint8_t *parity[] = {p};
    CHECK_OK(dbs_rs_encode(2, 1, 5, data, parity));
    for (int i = 0; i < 5; i++) CHECK(p[i] == (d0[i] ^ d1[i]), "RS(3,2) parity byte %d is %u", i, p[i]);

    const int some[] = {0, 5, 11, 12};          /* two data, two parity of 10 + 4 */
    rs_round_trip(10, 4, 1000, some, 4);
    const int all_parity[] = {10, 11, 12, 13};
    rs_round_trip(10, 4, 4096, all_parity, 4);
    const int first_data[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    rs_round_trip(239, 16, 4096, first_data, 16);
    const int one[] = {2};
    rs_round_trip(3, 2, 3 * 1024 * 1024 + 5, one, 1); /* several column blocks */
    rs_round_trip(4, 2, 64, NULL, 0);
    printf("raw codec: encode and reconstruct ok\n");
}

/* ---------------------------------------------------------------------------------- */

static void test_bad_arguments(void) {
    uint8_t a[8] = {0}, b[8] = {0};
    const uint8_t *data[] = {a, a};
    uint8_t *parity[] = {b, b};
    uint8_t *shards[] = {a, a, b};
    const uint8_t *null_data[] = {a, NULL};
    int erased[] = {0, 0};

    CHECK_STATUS(dbs_rs_encode(0, 1, 8, data, parity), DBS_ERR_USAGE);
    CHECK(strstr(dbs_last_error(), "k = 0") != NULL, "message '%s' does not name k", dbs_last_error());
    CHECK_STATUS(dbs_rs_encode(1, 0, 8, data, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(200, 56, 8, data, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(-1, 2, 8, data, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(2, 1, 0, data, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(2, 1, 8, NULL, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(2, 1, 8, data, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_encode(2, 1, 8, null_data, parity), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_reconstruct(2, 1, 8, shards, erased, 2), DBS_ERR_USAGE);  /* more than m */
    CHECK_STATUS(dbs_rs_reconstruct(1, 2, 8, shards, erased, 2), DBS_ERR_USAGE);  /* listed twice */
    CHECK_STATUS(dbs_rs_reconstruct(2, 1, 8, shards, NULL, 1), DBS_ERR_USAGE);
    int outside[] = {3};
    CHECK_STATUS(dbs_rs_reconstruct(2, 1, 8, shards, outside, 1), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_rs_reconstruct(2, 1, 8, NULL, erased, 1), DBS_ERR_USAGE);

    CHECK_STATUS(dbs_options_init(NULL, sizeof(dbs_options)), DBS_ERR_USAGE);
    dbs_options options;
    CHECK_STATUS(dbs_options_init(&options, offsetof(dbs_options, max_kdf_memory_kib) - 1), DBS_ERR_USAGE);
    CHECK_OK(dbs_options_init(&options, sizeof options));
    options.struct_size = 8;
    const char *inputs[] = {path_in("tree")};
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, PASS, &options), DBS_ERR_USAGE);
    options = fast_options();
    options.parity_shards = 0;
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, PASS, &options), DBS_ERR_USAGE);
    options = fast_options();
    options.checksum = 9;
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, PASS, &options), DBS_ERR_USAGE);
    options = fast_options();
    options.kdf_memory_kib = 1;
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, PASS, &options), DBS_ERR_USAGE);
    options = fast_options();
    CHECK_STATUS(dbs_backup_paths(NULL, inputs, 1, PASS, &options), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), NULL, 1, PASS, &options), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 0, PASS, &options), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, NULL, 5, &options), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), inputs, 1, "", 0, &options), DBS_ERR_USAGE);
    const char *missing[] = {path_in("no-such-input")};
    CHECK_STATUS(dbs_backup_paths(path_in("x.dbs"), missing, 1, PASS, &options), DBS_ERR_IO);
    CHECK(!exists(path_in("x.dbs")), "a failed backup left its output");

    CHECK_STATUS(dbs_restore(NULL, path_in("r"), PASS, 0, 0, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_restore(path_in("tree.dbs"), NULL, PASS, 0, 0, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_restore(path_in("tree.dbs"), path_in("r"), PASS, -1, 0, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_restore(path_in("no-such.dbs"), path_in("r"), PASS, 0, 0, NULL), DBS_ERR_IO);
    CHECK_STATUS(dbs_restore(path_in("tree/a.txt"), path_in("r"), PASS, 0, 0, NULL), DBS_ERR_FAILURE);
    CHECK_STATUS(dbs_validate(NULL, NULL, 0, 0, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_repair(path_in("tree.dbs"), NULL, 0, NULL), DBS_ERR_USAGE);

    dbs_writer *writer = (dbs_writer *)a;
    CHECK_STATUS(dbs_writer_open(path_in("w.dbs"), PASS, &options, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_writer_open(NULL, PASS, &options, &writer), DBS_ERR_USAGE);
    CHECK(writer == NULL, "a failed open left a writer");
    CHECK_STATUS(dbs_writer_begin_entry(NULL, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_writer_write(NULL, a, 1), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_writer_end_entry(NULL), DBS_ERR_USAGE);
    CHECK_OK(dbs_writer_close(NULL));
    dbs_writer_abort(NULL);

    CHECK_OK(dbs_writer_open(path_in("w.dbs"), PASS, &options, &writer));
    dbs_entry_info bad = {.path = NULL, .kind = DBS_ENTRY_FILE};
    CHECK_STATUS(dbs_writer_begin_entry(writer, &bad), DBS_ERR_USAGE);
    bad.path = "x";
    bad.kind = 42;
    CHECK_STATUS(dbs_writer_begin_entry(writer, &bad), DBS_ERR_USAGE);
    bad.kind = DBS_ENTRY_SYMLINK; /* without a target */
    CHECK_STATUS(dbs_writer_begin_entry(writer, &bad), DBS_ERR_USAGE);
    bad.kind = DBS_ENTRY_FILE;
    bad.mtime_nsec = 1000000000u;
    CHECK_STATUS(dbs_writer_begin_entry(writer, &bad), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_writer_write(writer, a, 1), DBS_ERR_USAGE); /* outside an entry */
    CHECK_STATUS(dbs_writer_write(writer, NULL, 1), DBS_ERR_USAGE);
    dbs_writer_abort(writer);

    dbs_reader *reader = NULL;
    CHECK_STATUS(dbs_reader_open(path_in("tree.dbs"), PASS, 2, NULL), DBS_ERR_USAGE);
    CHECK_OK(dbs_reader_open(path_in("tree.dbs"), PASS, 2, &reader));
    dbs_entry_info info;
    int has_entry;
    size_t n;
    CHECK_STATUS(dbs_reader_next_entry(reader, NULL, &has_entry), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_next_entry(reader, &info, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_next_entry(NULL, &info, &has_entry), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_read(reader, a, 0, &n), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_read(reader, NULL, 8, &n), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_read(reader, a, 8, NULL), DBS_ERR_USAGE);
    CHECK_STATUS(dbs_reader_report(reader, NULL), DBS_ERR_USAGE);
    dbs_reader_close(reader);
    dbs_reader_close(NULL);
    printf("bad arguments: %s\n", "all refused with DBS_ERR_USAGE and a message");
}

/* ---------------------------------------------------------------------------------- */

/* Each thread's last error is its own, and the codec runs on several threads. */
static void *thread_body(void *argument) {
    int k = (int)(intptr_t)argument;
    uint8_t a[8] = {0}, b[8];
    const uint8_t *data[] = {a};
    uint8_t *parity[] = {b};
    for (int i = 0; i < 50; i++) {
        if (dbs_rs_encode(k, 300, 8, data, parity) != DBS_ERR_USAGE) return "no usage error";
        char expected[32];
        snprintf(expected, sizeof expected, "k = %d,", k);
        if (strstr(dbs_last_error(), expected) == NULL) return "another thread's message";
        if (dbs_rs_encode(1, 1, 8, data, parity) != DBS_OK) return "encode failed";
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&threads[i], NULL, thread_body, (void *)(intptr_t)(i + 1)) == 0,
                                      "pthread_create");
    for (int i = 0; i < 4; i++) {
        void *result = NULL;
        pthread_join(threads[i], &result);
        CHECK(result == NULL, "thread %d: %s", i, (const char *)result);
    }
    printf("threads: per-thread messages ok\n");
}

/* Issue 12, item 4: a reader caps the Argon2id cost a backup may ask for before it can
 * be authenticated. Defaults 1 GiB and 30 passes; above the cap the open is refused,
 * nothing derived, and the message names the parameters and the fields that raise it. */
static void test_kdf_cap(void) {
    CHECK(DBS_ABI_VERSION == 3, "DBS_ABI_VERSION %d", DBS_ABI_VERSION);
    dbs_options defaults;
    CHECK_OK(dbs_options_init(&defaults, sizeof defaults));
    CHECK(defaults.max_kdf_memory_kib == 1048576 && defaults.max_kdf_time_cost == 30,
          "kdf cap defaults %u KiB, %u passes", defaults.max_kdf_memory_kib, defaults.max_kdf_time_cost);

    dbs_options options = fast_options();
    options.kdf_memory_kib = 2048;
    options.kdf_time_cost = 2;
    const char *inputs[] = {path_in("tree")};
    CHECK_OK(dbs_backup_paths(path_in("capped.dbs"), inputs, 1, PASS, &options));

    dbs_reader *reader = (dbs_reader *)1;
    options.max_kdf_memory_kib = 1024;
    CHECK_STATUS(dbs_reader_open_with_options(path_in("capped.dbs"), PASS, &options, &reader), DBS_ERR_FAILURE);
    CHECK(reader == NULL, "reader set on failure");
    const char *message = dbs_last_error();
    CHECK(strstr(message, "t = 2") && strstr(message, "m = 2048 KiB") && strstr(message, "max_kdf_memory_kib"),
          "cap message: %s", message);
    options.max_kdf_memory_kib = 2048;
    options.max_kdf_time_cost = 1;
    CHECK_STATUS(dbs_reader_open_with_options(path_in("capped.dbs"), PASS, &options, &reader), DBS_ERR_FAILURE);

    options.max_kdf_time_cost = 2;
    CHECK_OK(dbs_reader_open_with_options(path_in("capped.dbs"), PASS, &options, &reader));
    dbs_entry_info info;
    int has_entry = 0;
    CHECK_OK(dbs_reader_next_entry(reader, &info, &has_entry));
    CHECK(has_entry == 1, "no entry read under a cap that admits the file");
    dbs_reader_close(reader);
    /* NULL options: the defaults, which admit this file. */
    CHECK_OK(dbs_reader_open_with_options(path_in("capped.dbs"), PASS, NULL, &reader));
    dbs_reader_close(reader);

    /* The whole-file readers (ABI 3) take the same cap: refused above it with nothing
     * created, restored and validated within it. */
    dbs_report report;
    options.max_kdf_time_cost = 1;
    CHECK_STATUS(dbs_restore_with_options(path_in("capped.dbs"), path_in("capped-out"), PASS, &options, &report),
                 DBS_ERR_FAILURE);
    CHECK(strstr(dbs_last_error(), "t = 2") && strstr(dbs_last_error(), "max_kdf_time_cost"),
          "restore cap message: %s", dbs_last_error());
    CHECK(!exists(path_in("capped-out")), "a refused restore created its directory");
    CHECK_STATUS(dbs_validate_with_options(path_in("capped.dbs"), PASS, &options, &report), DBS_ERR_FAILURE);
    CHECK(strstr(dbs_last_error(), "max_kdf_time_cost"), "validate cap message: %s", dbs_last_error());
    /* Without a passphrase nothing is derived: the cap does not apply. */
    CHECK_OK(dbs_validate_with_options(path_in("capped.dbs"), NULL, 0, &options, &report));
    CHECK(report.healthy == 1, "structural validation under a low cap");

    options.max_kdf_time_cost = 2;
    options.overwrite = 0;
    CHECK_OK(dbs_restore_with_options(path_in("capped.dbs"), path_in("capped-out"), PASS, &options, &report));
    CHECK(report.entries > 0 && exists(path_in("capped-out/tree/a.txt")), "restore within the cap: %llu entries",
          (unsigned long long)report.entries);
    /* options->overwrite is honoured: 0 refuses what is there, 1 replaces it. */
    /* DBS_ERR_IO, as the CLI's exit 5 and as a backup over an existing file. */
    CHECK(dbs_restore_with_options(path_in("capped.dbs"), path_in("capped-out"), PASS, &options, &report) == DBS_ERR_IO
              && strstr(dbs_last_error(), "already exists"),
          "restore over existing files without overwrite");
    options.overwrite = 1;
    CHECK_OK(dbs_restore_with_options(path_in("capped.dbs"), path_in("capped-out"), PASS, &options, &report));
    CHECK_OK(dbs_validate_with_options(path_in("capped.dbs"), PASS, &options, &report));
    CHECK(report.entries > 0 && report.healthy == 1, "validate within the cap");
    CHECK_OK(dbs_validate_with_options(path_in("capped.dbs"), PASS, NULL, &report));
    CHECK_STATUS(dbs_restore_with_options(NULL, path_in("x"), PASS, NULL, &report), DBS_ERR_USAGE);
    printf("kdf cap: refused above, opened within (reader, restore, validate)\n");
}

int main(int argc, char **argv) {
    if (argc > 1) {
        snprintf(scratch, sizeof scratch, "%s", argv[1]);
        CHECK(mkdir(scratch, 0700) == 0 || errno == EEXIST, "mkdir %s", scratch);
    } else {
        snprintf(scratch, sizeof scratch, "/tmp/dbs-abi-XXXXXX");
        CHECK(mkdtemp(scratch) != NULL, "mkdtemp");
    }
    test_version();
    test_options();
    test_whole_file_round_trip();
    test_wrong_passphrase();
    test_healing();
    test_beyond_repair();
    test_streaming();
    test_byte_names();
    test_unsafe_paths();
    test_raw_codec();
    test_bad_arguments();
    test_threads();
    test_kdf_cap();
    free(tree_b);
    printf("ok: %d checks passed (scratch %s)\n", checks, scratch);
    return 0;
}
