/*
 * The reference for dbs-bench's RS encode figure: a plain C program calling ISA-L's
 * ec_init_tables + ec_encode_data on the same shape (RS(255,239), 4 KiB shards, about
 * 64 MiB of data in stripes laid out back to back) and the same parity matrix (the
 * classical systematic code with generator g(x) = prod_{i<16} (x - a^i)).
 *
 *   cc -O2 -o isal_encode isal_encode.c -lisal
 *   ./isal_encode [mib=64] [passes=5] [offset=16]
 *
 * The stripes start `offset` bytes past a 4096-byte boundary: 16 is where glibc's
 * malloc puts a large block (and so where dbs-bench's kernel buffers are); ISA-L's
 * AVX-512 code is sensitive to it (docs/PERFORMANCE.md).
 *
 * Prints one line per pass, then the median: "C isal encode threads=1 GB/s=..."
 * (GB = 10^9 bytes of data shards).
 */
#include <isa-l/erasure_code.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K = 239, M = 16, N = K + M, SHARD = 4096 };

static unsigned char alpha_power(int e) {
    unsigned x = 1;
    for (int i = 0; i < e % 255; i++) { x <<= 1; if (x & 0x100) x ^= 0x11D; }
    return (unsigned char)x;
}

/* parity[j][i]: coefficient of x^(M-1-j) in x^(N-1-i) mod g(x). */
static void parity_matrix(unsigned char parity[M * K]) {
    unsigned char g[M + 1] = {1};
    for (int i = 0; i < M; i++) {
        unsigned char root = alpha_power(i), next[M + 1] = {0};
        for (int d = 0; d <= i; d++) {
            next[d + 1] ^= g[d];
            next[d] ^= gf_mul(g[d], root);
        }
        memcpy(g, next, sizeof g);
    }
    unsigned char rem[M], remainders[K][M];
    memcpy(rem, g, M); /* x^M mod g */
    for (int t = M; t < N; t++) {
        memcpy(remainders[t - M], rem, M);
        unsigned char top = rem[M - 1];
        memmove(rem + 1, rem, M - 1);
        rem[0] = 0;
        for (int d = 0; d < M; d++) rem[d] ^= gf_mul(top, g[d]);
    }
    for (int j = 0; j < M; j++)
        for (int i = 0; i < K; i++) parity[j * K + i] = remainders[(N - 1 - i) - M][M - 1 - j];
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int mib = argc > 1 ? atoi(argv[1]) : 64, passes = argc > 2 ? atoi(argv[2]) : 5;
    int offset = argc > 3 ? atoi(argv[3]) : 16;
    if (mib <= 0 || passes <= 0 || passes > 100 || offset < 0 || offset >= 4096) {
        fprintf(stderr, "usage: isal_encode [mib] [passes] [offset]\n");
        return 2;
    }
    long stripes = ((long)mib << 20) / ((long)K * SHARD);
    if (stripes < 1) stripes = 1;
    unsigned char *raw = aligned_alloc(4096, (size_t)stripes * N * SHARD + 4096);
    if (!raw) return 1;
    unsigned char *buffer = raw + offset;
    uint64_t s = 0xDB5;
    for (size_t i = 0; i < (size_t)stripes * N * SHARD; i++) { s = s * 6364136223846793005ULL + 1; buffer[i] = (unsigned char)(s >> 56); }

    unsigned char parity[M * K], *tables = malloc(32 * M * K);
    parity_matrix(parity);
    ec_init_tables(K, M, parity, tables);
    unsigned char **pointers = malloc(sizeof(unsigned char *) * stripes * N);
    for (long st = 0; st < stripes; st++)
        for (int i = 0; i < N; i++) pointers[st * N + i] = buffer + (st * N + i) * SHARD;

    double rates[100];
    for (int p = 0; p < passes; p++) {
        double start = now();
        for (long st = 0; st < stripes; st++)
            ec_encode_data(SHARD, K, M, tables, pointers + st * N, pointers + st * N + K);
        rates[p] = (double)stripes * K * SHARD / (now() - start) / 1e9;
    }
    printf("C isal encode threads=1 offset=%d passes=[", offset);
    for (int p = 0; p < passes; p++) printf(p ? " %.3f" : "%.3f", rates[p]);
    qsort(rates, passes, sizeof(double), compare);
    printf("] GB/s=%.3f\n", rates[passes / 2]);
    free(pointers); free(tables); free(raw);
    return 0;
}
