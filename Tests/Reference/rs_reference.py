#!/usr/bin/env python3
"""Independent reference for DBS's Reed-Solomon encoder (known-answer vectors).

Pure Python, no tables: GF(2^8) multiplication by shift-and-add reduced by 0x11D,
generator g(x) = (x - a^0)(x - a^1)...(x - a^(m-1)) with a = 2, and systematic
encoding of each column by polynomial long division, with the codeword's
coefficients listed highest degree first: data shard i is the coefficient of
x^(n-1-i), parity shard r of x^(m-1-r) (see ReedSolomonMatrices.swift).

usage: rs_reference.py K M S SEED
Prints the n = K + M shards of one stripe, one hex line per shard: data bytes
drawn from random.Random(SEED) (shard 0 byte 0, byte 1, ..., then shard 1 ...),
then the parity this reference computes.
"""
import random
import sys


def gf_mul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return p


def generator(m):
    """Coefficients highest degree first, monic."""
    g = [1]
    root = 1
    for _ in range(m):
        # g(x) * (x + root)
        g = [c ^ gf_mul(root, prev) for c, prev in zip(g + [0], [0] + g)]
        root = gf_mul(root, 2)
    return g


def parity(message, g):
    """Remainder of message(x) * x^m divided by g(x), highest degree first."""
    m = len(g) - 1
    work = list(message) + [0] * m
    for i in range(len(message)):
        coef = work[i]
        if coef:
            for j in range(1, m + 1):
                work[i + j] ^= gf_mul(g[j], coef)
    return work[len(message):]


def main():
    k, m, s, seed = (int(x) for x in sys.argv[1:5])
    rng = random.Random(seed)
    data = [[rng.randrange(256) for _ in range(s)] for _ in range(k)]
    g = generator(m)
    par = [[0] * s for _ in range(m)]
    for col in range(s):
        rem = parity([data[i][col] for i in range(k)], g)
        for r in range(m):
            par[r][col] = rem[r]
    for shard in data + par:
        print(bytes(shard).hex())


if __name__ == "__main__":
    main()
