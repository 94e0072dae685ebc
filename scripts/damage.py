#!/usr/bin/env python3
"""Damage a DBS backup file in place, the way bit rot, bad sectors and truncated
uploads do, so that demos and tests exercise the repair path on real files.

The byte ranges of the two copies come from `dbs inspect --json` (field `copies`).

    damage.py FILE --copies-json JSON [--flip-rate R] [--zero OFFSET:LENGTH ...]
              [--zero-in-copy A|B:RELOFFSET:LENGTH ...] [--truncate FRACTION] [--seed S]
"""
import argparse
import json
import os
import random
import sys


def flip_bits(buf, start, length, rate, rng):
    """Flips each bit of buf[start:start+length] with probability `rate`
    (sampled as a geometric gap between flips, so 1e-7 over a GiB is cheap)."""
    if rate <= 0 or length <= 0:
        return 0
    import math
    flips = 0
    bit = -1
    total_bits = length * 8
    log_q = math.log1p(-rate)
    while True:
        gap = int(math.log(1.0 - rng.random()) / log_q)
        bit += gap + 1
        if bit >= total_bits:
            return flips
        buf[start + bit // 8] ^= 1 << (bit % 8)
        flips += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--copies-json", help="`dbs inspect --json` output (a file path or - for stdin)")
    ap.add_argument("--flip-rate", type=float, default=0.0, help="bit flip probability per bit, in both copies")
    ap.add_argument("--zero", action="append", default=[], help="OFFSET:LENGTH absolute, zero bytes")
    ap.add_argument("--zero-in-copy", action="append", default=[],
                    help="A|B:RELOFFSET:LENGTH zero bytes at an offset relative to a copy's start")
    ap.add_argument("--truncate", type=float, help="keep this fraction of the file")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    with open(args.file, "rb") as f:
        buf = bytearray(f.read())
    copies = []
    if args.copies_json:
        text = sys.stdin.read() if args.copies_json == "-" else open(args.copies_json).read()
        copies = [(c["offset"], c["length"]) for c in json.loads(text)["copies"]]

    report = {"flips": 0, "zeroed": 0}
    if args.flip_rate:
        if not copies:
            sys.exit("damage.py: --flip-rate needs --copies-json")
        for offset, length in copies:
            report["flips"] += flip_bits(buf, offset, length, args.flip_rate, rng)
    for spec in args.zero:
        offset, length = (int(x) for x in spec.split(":"))
        end = min(offset + length, len(buf))
        buf[offset:end] = bytes(end - offset)
        report["zeroed"] += end - offset
    for spec in args.zero_in_copy:
        which, rel, length = spec.split(":")
        offset = copies["AB".index(which.upper())][0] + int(rel)
        end = min(offset + int(length), len(buf))
        buf[offset:end] = bytes(end - offset)
        report["zeroed"] += end - offset
    if args.truncate is not None:
        keep = int(len(buf) * args.truncate)
        report["truncated_to"] = keep
        del buf[keep:]

    tmp = args.file + ".damage-tmp"
    with open(tmp, "wb") as f:
        f.write(buf)
    os.replace(tmp, args.file)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
