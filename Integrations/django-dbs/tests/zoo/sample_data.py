"""The zoo's sample data and the helpers that compare databases and damage files:
shared by the test suite (conftest.py) and the demo (scripts/sample.py), so no
pytest here."""
import ctypes
import datetime
import decimal
import os

from django.core.files.base import ContentFile
from django.db import connections

PASSPHRASE = "correct horse battery staple — ünïcødé"

# A 1x1 PNG: ImageField reads its dimensions.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def populate(media_dir):
    """Rows of every model of the zoo, with files, unicode, microseconds, nulls."""
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from zoo import models as zoo

    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    authors = [
        zoo.Author.objects.create(name="نجيب محفوظ", born=datetime.date(1911, 12, 11)),
        zoo.Author.objects.create(name="村上春樹 🐑", born=None),
        zoo.Author.objects.create(name="Zoë"),
    ]
    # auto_now fields set to known values with microseconds, behind the ORM's back.
    zoo.Author.objects.filter(pk=authors[0].pk).update(
        created=datetime.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.timezone.utc),
        updated=datetime.datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=tz))
    zoo.Profile.objects.create(author=authors[0], bio="سيرة",
                               avatar=ContentFile(PNG, name="وجه 🙂.png"))
    zoo.Profile.objects.create(author=authors[1], bio="")
    tags = [zoo.Tag.objects.create(name=n) for n in ("python", "数据", "🔥")]
    root = zoo.Category.objects.create(name="root")
    child = zoo.Category.objects.create(name="child", parent=root)
    scans = media_dir / "scans"
    scan = scans / "scan 扫描.bin"
    scan.write_bytes(os.urandom(70_000))
    articles = []
    for i in range(25):
        article = zoo.Article.objects.create(
            author=authors[i % 3], category=child if i % 2 else None, title=f"Article {i} — مقال",
            body="x" * (i * 37), price=decimal.Decimal("1234.5678") if i % 3 else None,
            meta={"i": i, "nested": {"list": [1, 2.5, "三"], "none": None}} if i % 4 else {},
            published=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456 + i, tzinfo=datetime.timezone.utc) if i % 5 else None,
            duration=datetime.timedelta(days=1, microseconds=7) if i % 2 else None,
            flag=bool(i % 2), ratio=(i / 7) if i % 3 else None, blob=bytes(range(i)) if i % 2 else None,
            scan_path=str(scan) if i == 3 else "", render_cache="cached!" * i)
        if i % 4 == 0:
            article.attachment.save(f"doc {i} 📄.txt", ContentFile(f"attachment {i}\n".encode() * 500), save=True)
        article.tags.set(tags[: i % 4])
        articles.append(article)
    club = zoo.Club.objects.create(name="Readers")
    zoo.Membership.objects.create(club=club, author=authors[0], role="chair",
                                  joined=datetime.datetime(2023, 1, 1, 12, 0, 0, 999999, tzinfo=datetime.timezone.utc))
    zoo.Membership.objects.create(club=club, author=authors[2],
                                  joined=datetime.datetime(2023, 6, 1, tzinfo=datetime.timezone.utc))
    zoo.Restaurant.objects.create(name="Pizzeria", address="1 Main St", serves_pizza=True, stars=4)
    zoo.Place.objects.create(name="Park")
    zoo.Comment.objects.create(content_type=ContentType.objects.get_for_model(zoo.Article),
                               object_id=str(articles[0].pk), text="great")
    zoo.Comment.objects.create(content_type=ContentType.objects.get_for_model(zoo.Author),
                               object_id=str(authors[1].pk), text="عظيم")
    department = zoo.Department.objects.create(name="R&D")
    boss = zoo.Employee.objects.create(name="Boss", department=department)
    zoo.Employee.objects.create(name="Dev", department=department, mentor=boss)
    department.head = boss
    department.save()
    zoo.Note.objects.create(text="visible")
    zoo.Note.objects.create(text="soft-deleted", deleted=True)
    group = Group.objects.create(name="editors")
    group.permissions.add(Permission.objects.get(codename="change_article"))
    user = User.objects.create_user("ada", "ada@example.com", "pw")
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_author"))


def table_rows(using="default"):
    """Every backed-up model's rows on `using`, ordered by pk, ContentType and
    Permission references by natural key: what a row-identical restore preserves."""
    from dbs.registry import backup_registry
    from dbs.serialization import NaturalKeys, natural_key_target

    keys = NaturalKeys(using)
    rows = {}
    for plan in backup_registry.plans(using):
        fields = [f.field for f in plan.fields]
        values = plan.model._base_manager.using(using).order_by("pk").values_list(*[f.attname for f in fields])
        converted = []
        for row in values:
            out = []
            for field, value in zip(fields, row):
                target = natural_key_target(field)
                if target and value is not None:
                    value = tuple(keys.key_for(target, value)[:3])
                if isinstance(value, memoryview):
                    value = bytes(value)
                out.append(value)
            converted.append(tuple(out))
        rows[plan.label] = converted
    return rows


def media_files(root):
    """{relative path: bytes} of a directory tree."""
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def copy_ranges(path, shard=4096):
    """(offset, length) of copy A and copy B in a backup file (docs/FORMAT.md §2)."""
    head = 8192
    size = os.path.getsize(path)
    copy = (size - 3 * head) // 2
    return (head, copy), (2 * head + copy, copy)


def damage(path, copy, relative, length=1, xor=0xFF):
    """Flips bytes of a backup file in copy 'A' or 'B' at `relative` bytes into it."""
    a, b = copy_ranges(path)
    start = (a if copy == "A" else b)[0] + relative
    with open(path, "r+b") as handle:
        handle.seek(start)
        data = bytearray(handle.read(length))
        handle.seek(start)
        handle.write(bytes(x ^ xor for x in data))


def wipe(using="default"):
    """Deletes every backed-up model's rows (children first) and the media."""
    from dbs.registry import backup_registry
    from django.db import transaction

    plans = backup_registry.plans(using)
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            for plan in reversed(plans):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(plan.model._meta.db_table)}")


def file_tree_backup(output, tree, passphrase=PASSPHRASE):
    """A backup of a directory made as `dbs backup` makes it (dbs_backup_paths): a
    file tree, not a Django payload."""
    from dbs import engine

    lib = engine.library()
    lib.dbs_backup_paths.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                     ctypes.c_size_t, ctypes.c_void_p]
    key = passphrase.encode()
    paths = (ctypes.c_char_p * 1)(os.fsencode(tree))
    status = lib.dbs_backup_paths(os.fsencode(output), paths, 1, key, len(key), None)
    assert status == 0, lib.dbs_last_error()
    return output
