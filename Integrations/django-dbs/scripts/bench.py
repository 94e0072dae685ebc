"""django-dbs benchmark (Benchmarks/django-bench.sh runs it): a sample project with
rows over several related models and media files, backed up and restored by DBS and by
its references in the same run: Django's dumpdata/loaddata (rows), django-dbbackup's
dbbackup + mediabackup --compress (rows + media) and the `dbs` CLI on the media tree.

    bench.py WORKDIR --rows 100000 --media-mb 1024 --dbs PATH [--rss-rows 1000000] [--runs 1]

Prints a Markdown table of wall times (best of --runs) and peak RSS (of the command's
process, /usr/bin/time %M)."""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "tests")

SETTINGS = '''
from project.settings import *  # noqa
INSTALLED_APPS = INSTALLED_APPS + (["dbbackup"] if HAVE_DBBACKUP else [])
DBS_KDF = None            # the engine's default Argon2id cost, as a user gets it
DBS_THREADS = 0
STORAGES = dict(STORAGES, dbbackup={"BACKEND": "django.core.files.storage.FileSystemStorage",
                                    "OPTIONS": {"location": SCRATCH + "/dbbackup"}})
'''

POPULATE = '''
import datetime, os, random, sys
import django
django.setup()
from django.db import connection, transaction
rows, media_mb, extra = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
now = datetime.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.timezone.utc).isoformat()
authors, tags = rows // 10, max(rows // 100, 10)
articles = (rows - authors - tags) // 2
links = rows - authors - tags - articles
words = "backup redundant parity shard stripe heal verify copy restore django model".split()
def text(n):
    return " ".join(rng.choice(words) for _ in range(n))
import uuid
author_ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(authors)]
media = os.path.join(os.environ["DBS_TEST_SCRATCH"], "media", "attachments")
os.makedirs(media, exist_ok=True)
files = []
if media_mb:
    count = 64
    block = os.urandom(1 << 20)
    for i in range(count):
        name = f"attachments/file-{i:03d}.bin"
        with open(os.path.join(media, f"file-{i:03d}.bin"), "wb") as handle:
            for _ in range(media_mb // count):
                # half random, half text: realistic media compresses a little
                handle.write(block[: 1 << 19] + text(90000).encode()[: 1 << 19])
        files.append(name)
with transaction.atomic(), connection.cursor() as c:
    sql = "INSERT INTO zoo_author (id, name, born, created, updated) VALUES (%s, %s, %s, %s, %s)"
    if connection.vendor == "postgresql":
        sql = sql.replace("(%s, %s", "(%s::uuid, %s")
    c.executemany(sql, [(a if connection.vendor == "postgresql" else a.replace("-", ""), "author %d" % i, "1970-01-01", now, now)
                        for i, a in enumerate(author_ids)])
    c.executemany("INSERT INTO zoo_tag (id, name) VALUES (%s, %s)", [(i + 1, "tag %d" % i) for i in range(tags)])
    for start in range(0, articles, 5000):
        batch = range(start, min(articles, start + 5000))
        c.executemany(
            "INSERT INTO zoo_article (id, author_id, title, body, price, meta, published, flag, attachment, scan_path,"
            " render_cache, created, updated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(i + 1, author_ids[i % authors] if connection.vendor == "postgresql" else author_ids[i % authors].replace("-", ""),
              "title %d" % i, text(30), "12.5000", '{"n": %d}' % i, now, i % 2 == 0,
              files[i % len(files)] if files and i < len(files) else "", "", "", now, now) for i in batch])
    c.executemany("INSERT INTO zoo_article_tags (article_id, tag_id) VALUES (%s, %s)",
                  [(i % articles + 1, (i * 7) % tags + 1) for i in range(links)])
    for start in range(0, extra, 20000):
        c.executemany("INSERT INTO zoo_reading (sensor, value, taken, label) VALUES (%s, %s, %s, %s)",
                      [(i % 97, i * 0.5, now, "reading %d" % i) for i in range(start, min(extra, start + 20000))])
print("populated", rows, "rows +", extra, "readings,", media_mb, "MiB of media")
'''


def timed(command, env, runs=1):
    """(best wall seconds, peak RSS KiB) of a command."""
    best, peak = None, 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(command)} failed:\n{done.stderr[-3000:]}")
        peak = max(peak, int(done.stderr.strip().splitlines()[-1]))
        best = wall if best is None else min(best, wall)
    return best, peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--media-mb", type=int, default=1024)
    parser.add_argument("--rss-rows", type=int, default=1_000_000)
    parser.add_argument("--dbs", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    try:
        import dbbackup  # noqa: F401
        have_dbbackup = True
    except ImportError:
        have_dbbackup = False

    python = sys.executable
    admin = [python, "-m", "django"]
    results = []

    def project(name, rows, media_mb, extra=0):
        scratch = os.path.join(args.work, name)
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(os.path.join(scratch, "settings_dir"))
        with open(os.path.join(scratch, "settings_dir", "bench_settings.py"), "w") as handle:
            handle.write(f"HAVE_DBBACKUP = {have_dbbackup}\n" + SETTINGS)
        env = dict(os.environ, DBS_TEST_SCRATCH=scratch, DJANGO_SETTINGS_MODULE="bench_settings",
                   PYTHONPATH=os.pathsep.join([os.path.join(scratch, "settings_dir"), TESTS]),
                   DBS_TEST_DATABASE=args.database, DBS_PASSPHRASE="bench passphrase")
        env.pop("DBS_TEST_PG_PORT", None) if args.database == "sqlite" else None
        subprocess.run(admin + ["migrate", "-v", "0"], env=env, check=True)
        if args.database != "sqlite":
            subprocess.run(admin + ["flush", "--no-input"], env=env, check=True)
        if args.database == "sqlite":
            shutil.copyfile(os.path.join(scratch, "db.sqlite3"), os.path.join(scratch, "empty.sqlite3"))
        subprocess.run([python, "-c", POPULATE, str(rows), str(media_mb), str(extra)], env=env, check=True)
        return scratch, env

    def empty_database(scratch, env):
        if args.database == "sqlite":
            shutil.copyfile(os.path.join(scratch, "empty.sqlite3"), os.path.join(scratch, "db.sqlite3"))
        else:
            subprocess.run(admin + ["flush", "--no-input"], env=env, check=True)

    excluded = ["--exclude", "contenttypes", "--exclude", "auth.permission", "--exclude", "admin.logentry",
                "--exclude", "sessions", "--exclude", "zoo.ExternalView"]  # unmanaged: no table
    # Rows only: DBS against dumpdata / loaddata.
    scratch, env = project("rows", args.rows, 0)
    dump = os.path.join(scratch, "rows.json")
    t_dump, m_dump = timed(admin + ["dumpdata", "--all", *excluded, "-o", dump], env, args.runs)
    backup = os.path.join(scratch, "rows.dbs")
    t_dbs, m_dbs = timed(admin + ["dbs_backup", backup, "--force", "--quiet"], env, args.runs)
    results.append((f"backup, {args.rows} rows ({args.database})", "dbs_backup", t_dbs, m_dbs, "dumpdata -o", t_dump, m_dump))
    empty_database(scratch, env)
    t_load, m_load = timed(admin + ["loaddata", dump], env, 1)
    empty_database(scratch, env)
    t_restore, m_restore = timed(admin + ["dbs_restore", backup, "--quiet"], env, 1)
    results.append((f"restore, {args.rows} rows ({args.database})", "dbs_restore", t_restore, m_restore, "loaddata",
                    t_load, m_load))

    if args.media_mb and args.database == "sqlite":
        scratch, env = project("media", args.rows, args.media_mb)
        backup = os.path.join(scratch, "all.dbs")
        t_all, m_all = timed(admin + ["dbs_backup", backup, "--force", "--quiet"], env, args.runs)
        if have_dbbackup:
            t_db, m_db = timed(admin + ["dbbackup", "--compress", "--noinput", "-q"], env, args.runs)
            t_media, m_media = timed(admin + ["mediabackup", "--compress", "--noinput", "-q"], env, args.runs)
            results.append((f"backup, {args.rows} rows + {args.media_mb} MiB media", "dbs_backup", t_all, m_all,
                            "dbbackup -z + mediabackup -z", t_db + t_media, max(m_db, m_media)))
        media = os.path.join(scratch, "media")
        t_cli, m_cli = timed([args.dbs, "backup", os.path.join(scratch, "tree.dbs"), media, "--force", "--quiet"],
                             env, args.runs)
        results.append((f"media part ({args.media_mb} MiB)", "dbs_backup all - rows only", t_all - t_dbs, m_all,
                        "dbs backup MEDIA (CLI)", t_cli, m_cli))

    if args.rss_rows and args.database == "sqlite":
        scratch, env = project("rss", args.rows, 0, extra=args.rss_rows - args.rows)
        t_big, m_big = timed(admin + ["dbs_backup", os.path.join(scratch, "big.dbs"), "--force", "--quiet"], env, 1)
        results.append((f"peak RSS, {args.rss_rows} vs {args.rows} rows", f"dbs_backup {args.rss_rows} rows", t_big,
                        m_big, f"dbs_backup {args.rows} rows", t_dbs, m_dbs))

    print("| measure | DBS | wall s | peak RSS MiB | reference | wall s | peak RSS MiB | ratio (ref/DBS wall) |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for what, ours, t_ours, m_ours, theirs, t_theirs, m_theirs in results:
        ratio = (f"RSS {m_ours / m_theirs:.2f}x" if what.startswith("peak RSS") else f"{t_theirs / t_ours:.2f}x")
        print(f"| {what} | {ours} | {t_ours:.2f} | {m_ours / 1024:.0f} | {theirs} | {t_theirs:.2f} | "
              f"{m_theirs / 1024:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
