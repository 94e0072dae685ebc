#!/usr/bin/env python3
"""A second, independent DBS reader, written from docs/FORMAT.md and docs/PAYLOAD.md
alone (no DBS code, no DBS library): it reads an intact backup, or one whose damage
is confined to whole shards of one copy, and lists its entries. Its job is to prove
the documents complete: scripts/test-vectors.sh runs it on the test vectors of
docs/TEST-VECTORS.md and compares its listing with the published one.

It implements what a minimal reader needs and little more: head #0 (else head #2), no
vote, no scan, no error-correcting decode of metadata blocks; a shard failing its
checksum in copy A is taken from copy B, and up to m shards failing in every copy
are rebuilt by Reed-Solomon erasure decoding (section 6, solved here from the
definition, not with any library). It also checks that the parity of every metadata
block and stripe is the code section 6 defines, so the documents' description of the
code is tested on real bytes. Primitives come from independent implementations:
argon2-cffi (the Argon2 reference code), cryptography (OpenSSL's AES-GCM), xxhash,
zstandard, and hashlib's BLAKE2b and SHA-256.

usage: dbs_vector_reader.py FILE.dbs.hex PASSPHRASE-AS-HEX   (prints the listing)
"""
import hashlib
import json
import struct
import sys
import unicodedata

import xxhash
import zstandard
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOCK = 8192        # FORMAT 3: a protected block
BODY = 4464         # its body; the XXH3-128 of the body follows, then RS parity


class Refused(Exception):
    pass


# FORMAT 6: GF(2^8) with polynomial 0x11D and alpha = 2; MUL[c] maps x to c * x.
EXP, LOG = [0] * 510, [0] * 256
_x = 1
for _i in range(255):
    EXP[_i] = EXP[_i + 255] = _x
    LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
MUL = [bytes(EXP[LOG[c] + LOG[x]] if c and x else 0 for x in range(256)) for c in range(256)]


def consistent(shards, parity):
    """FORMAT 6: shard s holds the coefficient of x^(n-1-s) of every column's codeword,
    and c(alpha^j) = 0 for j = 0..m-1. Horner's rule over whole shards at once."""
    for j in range(parity):
        table, acc = MUL[EXP[j]], 0
        for shard in shards:
            acc = int.from_bytes(acc.to_bytes(len(shard), "big").translate(table), "big") ^ int.from_bytes(shard, "big")
        if acc:
            return False
    return True


def xxh3_128(data):
    # FORMAT 3/8: the canonical form, big-endian, as xxhsum -H2 prints it.
    return xxhash.xxh3_128_digest(data)


def blake2b_128(data):
    # FORMAT 8: BLAKE2b with a 16-byte digest length parameter (not truncated).
    return hashlib.blake2b(data, digest_size=16).digest()


def block_body(block):
    """FORMAT 3: the body of an intact protected block (no error correction here),
    whose parity must be the RS code's: 128 shards of 64 bytes, 58 of them parity
    (stricter than a reader, which ignores damage confined to the parity: this one
    checks the documents, and the vectors' parity is intact)."""
    if len(block) != BLOCK or xxh3_128(block[:BODY]) != block[BODY:BODY + 16]:
        return None
    if not consistent([block[64 * i:64 * i + 64] for i in range(128)], 58):
        raise Refused("an intact protected block whose parity is not the RS code of FORMAT 6")
    return block[:BODY]


def descriptor(raw):
    """FORMAT 4: the 128-byte descriptor, every integer little-endian."""
    fields = struct.unpack_from("<16sq16sIII60sIBbBBHHI", raw)
    names = ("backup_id", "created", "salt", "t", "m", "p", "wrapped", "chunk_size", "compression", "level",
             "checksum", "copies", "k", "parity", "shard_size")
    d = dict(zip(names, fields))
    if not (1 <= d["chunk_size"] <= 16 << 20 and d["compression"] in (0, 1) and d["checksum"] in (1, 2)
            and d["copies"] in (1, 2) and d["k"] >= 1 and d["parity"] >= 1 and d["k"] + d["parity"] <= 255
            and 16 <= d["shard_size"] <= 65536):
        raise Refused(f"descriptor out of bounds: {d}")
    if d["compression"] == 0 and d["level"] != 0:
        raise Refused("a zstd level with compression none")
    if d["compression"] == 1 and not -7 <= d["level"] <= 22:
        raise Refused("zstd level out of bounds")
    if not (1 <= d["t"] <= 64 and 1 <= d["p"] <= 64 and 8 * d["p"] <= d["m"] <= 4 * 1024 * 1024):
        raise Refused("Argon2id parameters out of bounds")
    return d


def layout(d, stripes):
    """FORMAT 2: H, R and the offsets of the copies and heads."""
    s, n = d["shard_size"], d["k"] + d["parity"]
    h = -(-BLOCK // s) * s
    r = h + n * s
    copy_b = 2 * h + stripes * r if d["copies"] == 2 else 0
    head1 = h + stripes * r
    head2 = 2 * h + d["copies"] * stripes * r
    return {"H": h, "R": r, "copy_a": h, "copy_b": copy_b, "head1": head1, "head2": head2,
            "length": 3 * h + d["copies"] * stripes * r}


def head(data):
    """FORMAT 9/10: head #0, else head #2 (the last 8192 bytes)."""
    for offset in (0, len(data) - BLOCK):
        body = block_body(data[offset:offset + BLOCK])
        if body is None or body[:8] != b"DBS-HEAD":
            continue
        version, index, zero = struct.unpack_from("<HBB", body, 8)
        if version != 1:
            raise Refused(f"unsupported version {version}")
        d = descriptor(body[12:140])
        stripes, stream_length, chunks, h = struct.unpack_from("<QQQI", body, 140)
        stored = struct.unpack_from("<QQQQQQ", body, 168)
        lay = layout(d, stripes)
        expected = (lay["R"], lay["copy_a"], lay["copy_b"], lay["head1"], lay["head2"], lay["length"])
        if h != lay["H"] or stored != expected:
            raise Refused("head offsets differ from the layout")
        return d, body[12:140], stripes, stream_length, chunks, lay
    raise Refused("no intact head at offset 0 or at the end of the file")


def keys(d, raw_descriptor, passphrase):
    """FORMAT 5: KEK = Argon2id(NFC passphrase, salt), then unwrap the data key. The
    NFC form first, then the bytes as given (backups from before normalisation)."""
    aad = b"DBS descriptor v1" + raw_descriptor[:52] + bytes(60) + raw_descriptor[112:]
    nonce, sealed = d["wrapped"][:12], d["wrapped"][12:]
    tried = []
    try:
        tried.append(unicodedata.normalize("NFC", passphrase.decode("utf-8")).encode("utf-8"))
    except UnicodeDecodeError:
        pass
    if passphrase not in tried:
        tried.append(passphrase)
    for password in tried:
        kek = hash_secret_raw(secret=password, salt=d["salt"], time_cost=d["t"], memory_cost=d["m"],
                              parallelism=d["p"], hash_len=32, type=Type.ID, version=19)
        try:
            return kek, AESGCM(kek).decrypt(nonce, sealed, aad)
        except InvalidTag:
            continue
    raise Refused("wrong passphrase")


def gf_mul(a, b):
    return EXP[LOG[a] + LOG[b]] if a and b else 0


def gf_inverse(matrix):
    """Gauss-Jordan over GF(2^8): the inverse of a square matrix (it is invertible:
    a Vandermonde matrix of distinct powers of alpha)."""
    size = len(matrix)
    rows = [row[:] + [int(i == j) for j in range(size)] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = next(r for r in range(column, size) if rows[r][column])
        rows[column], rows[pivot] = rows[pivot], rows[column]
        scale = EXP[255 - LOG[rows[column][column]]]
        rows[column] = [gf_mul(scale, v) for v in rows[column]]
        for r in range(size):
            if r != column and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [v ^ gf_mul(factor, w) for v, w in zip(rows[r], rows[column])]
    return [row[size:] for row in rows]


def scaled(shard, c):
    return int.from_bytes(shard.translate(MUL[c]), "big")


def rebuild(shards, erased, parity):
    """FORMAT 6 as erasure decoding: the erased shards' bytes are the unknowns of
    c(alpha^j) = 0 for j = 0..len(erased)-1, every column at once."""
    n, size = len(shards), len(shards[0])
    power = lambda j, s: EXP[(j * (n - 1 - s)) % 255]
    equations = range(len(erased))
    inverse = gf_inverse([[power(j, e) for e in erased] for j in equations])
    sums = []
    for j in equations:
        acc = 0
        for s, shard in enumerate(shards):
            if s not in erased:
                acc ^= scaled(shard, power(j, s))
        sums.append(acc.to_bytes(size, "big"))
    for row, e in zip(inverse, erased):
        acc = 0
        for coefficient, value in zip(row, sums):
            acc ^= scaled(value, coefficient)
        shards[e] = acc.to_bytes(size, "big")


def stream(data, d, raw_descriptor, stripes, lay):
    """FORMAT 8: copy A's data shards, stripe by stripe, checked against the header's
    checksums: a failing shard is taken from copy B, and shards failing in every copy,
    if at most m, are rebuilt from the others by Reed-Solomon (and checked again).
    Each stripe is cut to its data length."""
    s, k, n = d["shard_size"], d["k"], d["k"] + d["parity"]
    digest = xxh3_128 if d["checksum"] == 1 else blake2b_128
    out = bytearray()
    for index in range(stripes):
        records = [lay["copy_a"] + index * lay["R"]]
        if d["copies"] == 2:
            records.append(lay["copy_b"] + index * lay["R"])
        header = None
        for copy, record in enumerate(records):
            body = block_body(data[record:record + BLOCK])
            if body is None or body[:8] != b"DBS-STRP":
                continue
            version, copy_byte, flags, stripe_index, length = struct.unpack_from("<HBBQI", body, 8)
            if (version, copy_byte, flags, stripe_index) == (1, copy, int(index == stripes - 1), index) \
                    and body[24:152] == raw_descriptor:
                header = (length, body[152:152 + 16 * n])
                break
        if header is None:
            raise Refused(f"stripe {index}: no intact header in any copy")
        length, sums = header
        shards, erased = [], []
        for shard in range(n):
            pieces = [data[r + lay["H"] + shard * s:r + lay["H"] + (shard + 1) * s] for r in records]
            good = [p for p in pieces if len(p) == s and digest(p) == sums[16 * shard:16 * shard + 16]]
            shards.append(good[0] if good else bytes(s))
            if not good:
                erased.append(shard)
        if len(erased) > d["parity"]:
            raise Refused(f"stripe {index}: shards {erased} fail their checksums in every copy, more than parity")
        if erased:
            rebuild(shards, erased, d["parity"])
            if any(digest(shards[e]) != sums[16 * e:16 * e + 16] for e in erased):
                raise Refused(f"stripe {index}: rebuilt shards {erased} fail their checksums")
        if not consistent(shards, d["parity"]):
            raise Refused(f"stripe {index}: shards whose parity is not the RS code of FORMAT 6")
        out += b"".join(shards[:k])[:length]
    return bytes(out)


def chunks(ciphertext, d, dek, expected_chunks):
    """FORMAT 7: frames back to back; AES-256-GCM per chunk; raw or zstd inside."""
    aes, offset, index, plaintext = AESGCM(dek), 0, 0, bytearray()
    while True:
        if offset + 4 > len(ciphertext):
            raise Refused("the stream ends before a final frame")
        (prefix,) = struct.unpack_from("<I", ciphertext, offset)
        length, final = prefix & 0x7FFFFFFF, prefix >> 31
        if not 21 <= length <= d["chunk_size"] + 21 or offset + 4 + length > len(ciphertext):
            raise Refused(f"chunk {index}: sealed length {length} out of bounds")
        nonce = bytes(4) + struct.pack(">Q", index)
        aad = b"DBS-chunk-v1" + d["backup_id"] + struct.pack(">Q", index) + bytes([final])
        try:
            inner = aes.decrypt(nonce, ciphertext[offset + 4:offset + 4 + length], aad)
        except InvalidTag:
            raise Refused(f"chunk {index} fails its tag") from None
        encoding, size = inner[0], struct.unpack_from("<I", inner, 1)[0]
        stored = inner[5:]
        if encoding == 0:
            content = stored
        elif encoding == 1:
            content = zstandard.ZstdDecompressor().decompress(stored, max_output_size=size)
        else:
            raise Refused(f"chunk {index}: encoding {encoding}")
        if len(content) != size or size > d["chunk_size"]:
            raise Refused(f"chunk {index}: {len(content)} bytes, header says {size}")
        plaintext += content
        offset += 4 + length
        index += 1
        if final:
            break
    if index != expected_chunks or offset != len(ciphertext):
        raise Refused(f"{index} chunks ending at {offset}; the head records {expected_chunks} and {len(ciphertext)}")
    return bytes(plaintext)


def entries(payload):
    """PAYLOAD: frames, entries, their SHA-256, the end frame and the payload digest."""
    offset, digest, listing = 0, hashlib.sha256(), []
    metadata, current, content = None, None, None
    count = total = 0

    def frame():
        nonlocal offset
        kind, version, length = struct.unpack_from("<BBI", payload, offset)
        if version != 1:
            raise Refused(f"frame version {version}")
        header, body = payload[offset:offset + 6], payload[offset + 6:offset + 6 + length]
        if len(body) != length:
            raise Refused("the payload ends inside a frame")
        offset += 6 + length
        if kind != 0x7F:
            digest.update(header)
            if kind != 0x11:
                digest.update(body)
        return kind, body

    kind, body = frame()
    if kind != 0x01 or body[:8] != b"DBSPAYLD" or struct.unpack_from("<H", body, 8)[0] not in (1, 2):
        raise Refused("not a DBS payload")
    kind, body = frame()
    if kind != 0x02:
        raise Refused("no metadata frame")
    metadata = json.loads(body.decode("utf-8"))
    while True:
        kind, body = frame()
        if kind == 0x10:
            kind_, mode, seconds, nanoseconds, size, flags = struct.unpack_from("<BIqIQB", body)
            at = 26
            (length,) = struct.unpack_from("<H", body, at)
            path = body[at + 2:at + 2 + length].decode("utf-8")
            current = {"path": path, "kind": kind_, "mode": mode, "mtime": seconds, "size": size}
            content = hashlib.sha256()
            count += 1
            current["bytes"] = 0
        elif kind == 0x11:
            content.update(body)
            current["bytes"] += len(body)
        elif kind == 0x12:
            size, sha = struct.unpack_from("<Q32s", body)
            if size != current["bytes"] or sha != content.digest():
                raise Refused(f"{current['path']}: content does not match its entry-end frame")
            current["sha256"] = sha.hex()
            total += size
            listing.append(current)
        elif kind == 0x7F:
            entry_count, content_bytes, payload_digest = struct.unpack_from("<QQ32s", body)
            if (entry_count, content_bytes) != (count, total) or payload_digest != digest.digest():
                raise Refused("the end frame does not match the payload")
            if offset != len(payload):
                raise Refused("bytes after the end frame")
            return metadata, listing
        else:
            raise Refused(f"frame type {kind:#x}")


def read(data, passphrase):
    d, raw_descriptor, stripes, stream_length, chunk_count, lay = head(data)
    _, dek = keys(d, raw_descriptor, passphrase)
    ciphertext = stream(data, d, raw_descriptor, stripes, lay)
    if len(ciphertext) != stream_length:
        raise Refused(f"stream of {len(ciphertext)} bytes; the head records {stream_length}")
    return entries(chunks(ciphertext, d, dek, chunk_count))


def main():
    hex_path, passphrase_hex = sys.argv[1], sys.argv[2]
    with open(hex_path) as handle:
        data = bytes.fromhex("".join(handle.read().split()))
    try:
        metadata, listing = read(data, bytes.fromhex(passphrase_hex))
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 4
    print("metadata " + json.dumps(metadata, sort_keys=True))
    kinds = {1: "file", 2: "directory", 3: "symlink", 4: "records"}
    for entry in listing:
        print(f"{kinds.get(entry['kind'], entry['kind'])} {entry['path']} mode {entry['mode']:o} "
              f"mtime {entry['mtime']} size {entry['bytes']} sha256 {entry['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
