/*
 * Reproducible benchmark tree for Benchmarks/compare-tools.sh.
 *
 *   gen-tree DIR TOTAL_BYTES [SEED]
 *
 * Writes TOTAL_BYTES under DIR, half incompressible (splitmix64 output) and half text
 * (words from a seeded vocabulary, Zipf-like skew, so zstd -1 gets roughly 3x). Half of
 * the bytes sit in four large files (two random, two text, TOTAL/8 each); the other half
 * in many files with log-uniform sizes from 64 bytes to 2 MiB, forty per directory, kind
 * alternating so both halves stay equal. Every byte comes from one PRNG stream seeded by
 * SEED, so the same arguments give the same tree, and no two files share content (the
 * deduplicating tools get no free wins from repeated blocks).
 *
 *   gen-tree DIR TOTAL_BYTES SEED FILES
 *
 * The small-files shape (a media or mail directory): FILES files and nothing else,
 * sizes from 256 bytes to 256 KiB, log-scale skewed to the small end (the exponent's
 * fraction is uniform cubed: median about 1.1 KiB, mean about 13 KiB), 100 per leaf
 * directory three levels deep (dNN/dN/dN), three incompressible for one text, until
 * FILES or TOTAL_BYTES (a cap) runs out (the last files may be empty then).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t state;

static uint64_t next(void) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next() >> 11) / 9007199254740992.0; }

enum { VOCABULARY = 20000, BUFFER = 1 << 20 };
static char *words[VOCABULARY];
static size_t lengths[VOCABULARY];
static unsigned char buffer[BUFFER];

static void make_vocabulary(void) {
    static const char letters[] = "etaoinshrdlucmfwypvbgkjqxz";
    for (int i = 0; i < VOCABULARY; i++) {
        size_t n = 2 + next() % 10;
        words[i] = malloc(n + 1);
        for (size_t j = 0; j < n; j++) {
            /* skewed letter choice: squares favour the common letters */
            double u = uniform();
            words[i][j] = letters[(int)(u * u * 26)];
        }
        words[i][n] = 0;
        lengths[i] = n;
    }
}

static void fail(const char *what, const char *path) {
    fprintf(stderr, "gen-tree: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void write_file(const char *path, uint64_t size, int text) {
    FILE *f = fopen(path, "wb");
    if (!f) fail("cannot create", path);
    uint64_t left = size;
    size_t column = 0;
    while (left > 0) {
        size_t n = left < BUFFER ? (size_t)left : BUFFER;
        if (!text) {
            for (size_t i = 0; i < n; i += 8) {
                uint64_t v = next();
                memcpy(buffer + i, &v, n - i < 8 ? n - i : 8);
            }
        } else {
            size_t i = 0;
            while (i < n) {
                double u = uniform();
                int w = (int)(u * u * u * VOCABULARY); /* Zipf-like: low indices common */
                for (size_t j = 0; j < lengths[w] && i < n; j++) buffer[i++] = words[w][j];
                column += lengths[w] + 1;
                if (i < n) buffer[i++] = column > 72 ? (column = 0, '\n') : ' ';
            }
        }
        if (fwrite(buffer, 1, n, f) != n) fail("cannot write", path);
        left -= n;
    }
    if (fclose(f) != 0) fail("cannot close", path);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gen-tree DIR TOTAL_BYTES [SEED]\n");
        return 2;
    }
    const char *root = argv[1];
    uint64_t total = strtoull(argv[2], NULL, 10);
    state = argc > 3 ? strtoull(argv[3], NULL, 10) : 20261128;
    if (mkdir(root, 0755) != 0 && errno != EEXIST) fail("cannot create", root);
    make_vocabulary();

    char path[4096];
    if (argc > 4) {
        unsigned files = (unsigned)strtoul(argv[4], NULL, 10);
        uint64_t left = total;
        unsigned directories = 0;
        for (unsigned i = 0; i < files; i++) {
            /* 256 B to 256 KiB, skewed to the small end (u cubed): mean about 13 KiB */
            double u = uniform();
            uint64_t size = (uint64_t)exp(log(256.0) + u * u * u * (log(262144.0) - log(256.0)));
            if (size > left) size = left;
            /* three levels, 100 files per leaf directory: dNN/dN/dN */
            unsigned leaf = i / 100;
            if (i % 100 == 0) {
                snprintf(path, sizeof path, "%s/d%02u", root, leaf / 100);
                if (mkdir(path, 0755) != 0 && errno != EEXIST) fail("cannot create", path);
                snprintf(path, sizeof path, "%s/d%02u/d%u", root, leaf / 100, leaf / 10 % 10);
                if (mkdir(path, 0755) != 0 && errno != EEXIST) fail("cannot create", path);
                snprintf(path, sizeof path, "%s/d%02u/d%u/d%u", root, leaf / 100, leaf / 10 % 10, leaf % 10);
                if (mkdir(path, 0755) != 0 && errno != EEXIST) fail("cannot create", path);
                directories++;
            }
            snprintf(path, sizeof path, "%s/d%02u/d%u/d%u/f%06u.%s", root, leaf / 100, leaf / 10 % 10, leaf % 10, i,
                     i % 4 == 3 ? "txt" : "jpg");
            write_file(path, size, i % 4 == 3);
            left -= size;
        }
        printf("%u small files in %u leaf directories, %llu bytes\n", files, directories,
               (unsigned long long)(total - left));
        return 0;
    }
    uint64_t large = total / 8;
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/large-%d.%s", root, i, i % 2 ? "txt" : "bin");
        write_file(path, large, i % 2);
    }

    /* the small files: each kind gets half of what the large files left */
    uint64_t budget[2];
    budget[0] = total / 2 - 2 * large;
    budget[1] = total - 4 * large - budget[0];
    unsigned count = 0;
    int kind = 0;
    while (budget[0] + budget[1] > 0) {
        if (budget[kind] == 0) kind = !kind;
        uint64_t size = (uint64_t)exp(log(64.0) + uniform() * (log(2097152.0) - log(64.0)));
        if (size > budget[kind]) size = budget[kind];
        if (count % 40 == 0) {
            snprintf(path, sizeof path, "%s/d%03u", root, count / 40);
            if (mkdir(path, 0755) != 0 && errno != EEXIST) fail("cannot create", path);
        }
        snprintf(path, sizeof path, "%s/d%03u/f%05u.%s", root, count / 40, count, kind ? "txt" : "bin");
        write_file(path, size, kind);
        budget[kind] -= size;
        count++;
        kind = !kind;
    }
    printf("%u small files + 4 large, %llu bytes\n", count, (unsigned long long)total);
    return 0;
}
