"""Writes payload-v2-93db50b.dbs: a payload version 2 backup made by DBS as it was at
main 93db50b (before entry names became bytes), through the C ABI of the libDBSC.so
built from that commit. Kept so that FileTreeByteNameTests proves the current reader
restores what the previous code wrote. Not run by the tests.

    python3 make-payload-v2-fixture.py payload-v2-93db50b.dbs 512   # shard size
"""
import ctypes, os, sys
lib = ctypes.CDLL("/work/cabi-main/lib/libDBSC.so")
class Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("threads", ctypes.c_int), ("copies", ctypes.c_int),
                ("data_shards", ctypes.c_int), ("parity_shards", ctypes.c_int), ("shard_size", ctypes.c_int),
                ("checksum", ctypes.c_int), ("compression", ctypes.c_int), ("compression_level", ctypes.c_int),
                ("kdf_time_cost", ctypes.c_uint32), ("kdf_memory_kib", ctypes.c_uint32), ("kdf_parallelism", ctypes.c_uint32),
                ("verify", ctypes.c_int), ("overwrite", ctypes.c_int),
                ("max_kdf_memory_kib", ctypes.c_uint32), ("max_kdf_time_cost", ctypes.c_uint32)]
class Entry(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("kind", ctypes.c_int), ("mode", ctypes.c_uint32),
                ("mtime_sec", ctypes.c_int64), ("mtime_nsec", ctypes.c_uint32), ("size", ctypes.c_uint64),
                ("link_target", ctypes.c_char_p), ("model_label", ctypes.c_char_p), ("streamed", ctypes.c_int)]
lib.dbs_last_error.restype = ctypes.c_char_p
def check(status):
    if status != 0:
        sys.exit("dbs: %d %s" % (status, lib.dbs_last_error()))
o = Options()
check(lib.dbs_options_init(ctypes.byref(o), ctypes.sizeof(o)))
o.threads = 1; o.copies = 1; o.data_shards = 4; o.parity_shards = 2; o.shard_size = int(sys.argv[2])
o.kdf_time_cost = 1; o.kdf_memory_kib = 8192; o.kdf_parallelism = 1
w = ctypes.c_void_p()
pw = b"fixture passphrase"
out = sys.argv[1]
check(lib.dbs_writer_open(out.encode(), pw, len(pw), ctypes.byref(o), ctypes.byref(w)))
entries = [
    ("old", 2, 0o755, None, None),
    ("old/a.txt", 1, 0o644, b"written by DBS at 93db50b\n", None),
    ("old/b", 5, 0o644, None, "old/a.txt"),
    ("old/link", 3, 0o777, None, "a.txt"),
    ("old/sub", 2, 0o700, None, None),
    ("old/sub/empty", 1, 0o600, b"", None),
    ("old/\u00fcn\u00efc\u00f8d\u00e9 \u2713", 1, 0o640, "юникод\n".encode(), None),
]
for i, (path, kind, mode, content, target) in enumerate(entries):
    e = Entry(path.encode(), kind, mode, 1_700_000_000 + i, 123456789, len(content or b""),
              target.encode() if target else None, None, 0)
    check(lib.dbs_writer_begin_entry(w, ctypes.byref(e)))
    if content:
        check(lib.dbs_writer_write(w, content, len(content)))
    check(lib.dbs_writer_end_entry(w))
check(lib.dbs_writer_close(w))
print(os.path.getsize(out))
