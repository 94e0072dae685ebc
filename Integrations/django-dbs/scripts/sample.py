"""The Django demo's sample project helper (scripts/demo-django.sh).

    sample.py populate          rows of every model of the test project's zoo, with files
    sample.py snapshot OUT      every backed-up row (by pk) and every media file's SHA-256 to OUT
    sample.py compare OUT       the same now, compared with OUT: row for row, byte for byte

Runs with DJANGO_SETTINGS_MODULE=project.settings and the test project on sys.path."""
import hashlib
import json
import os
import pathlib
import sys

import django


def snapshot():
    from zoo.sample_data import table_rows
    from django.conf import settings
    from django.core.serializers.json import DjangoJSONEncoder

    rows = json.loads(json.dumps(table_rows(), cls=DjangoJSONEncoder, default=repr))
    files = {}
    for base in (settings.MEDIA_ROOT, os.path.join(os.path.dirname(settings.MEDIA_ROOT), "scans")):
        for directory, _, names in os.walk(base):
            for name in names:
                path = os.path.join(directory, name)
                files[os.path.relpath(path, os.path.dirname(base))] = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    return {"rows": rows, "files": files}


def main():
    django.setup()
    command = sys.argv[1]
    if command == "populate":
        from zoo.sample_data import populate
        from django.conf import settings

        media = pathlib.Path(settings.MEDIA_ROOT).parent
        (media / "scans").mkdir(parents=True, exist_ok=True)
        populate(media)
        # A few MiB of media, so that damage lands in file contents as well as rows.
        from django.core.files.base import ContentFile
        from zoo.models import Article

        article = Article.objects.order_by("pk")[1]
        article.attachment.save("large 大.bin", ContentFile(os.urandom(6 << 20)), save=True)
        print(f"sample: {sum(len(r) for r in snapshot()['rows'].values())} rows, {len(snapshot()['files'])} files")
    elif command == "snapshot":
        pathlib.Path(sys.argv[2]).write_text(json.dumps(snapshot(), sort_keys=True))
    elif command == "compare":
        before = json.loads(pathlib.Path(sys.argv[2]).read_text())
        now = json.loads(json.dumps(snapshot(), sort_keys=True))
        if now != before:
            for key in ("rows", "files"):
                for name in sorted(set(before[key]) | set(now[key])):
                    if before[key].get(name) != now[key].get(name):
                        print(f"DIFFERS: {key} {name}", file=sys.stderr)
            sys.exit("sample: the restore differs from the original")
        rows = sum(len(r) for r in now["rows"].values())
        print(f"sample: {rows} rows of {len(now['rows'])} models identical, {len(now['files'])} files identical byte for byte")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
