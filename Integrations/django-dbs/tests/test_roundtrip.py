"""Round trips through the real engine: row-identical, files byte for byte, on the
database the suite runs on and across to the other engine."""
import datetime
import os

import pytest
from django.db import connections
from django.db.models.signals import m2m_changed, post_save, pre_save

from conftest import PASSPHRASE, media_files, populate, table_rows, wipe
from dbs import create_backup, restore_backup, validate_backup

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def clear_media(root):
    for directory, _, names in os.walk(root):
        for name in names:
            os.unlink(os.path.join(directory, name))


def test_restore_is_row_identical_with_files_byte_for_byte(populated, tmp_path, settings):
    before = table_rows()
    files_before = media_files(settings.MEDIA_ROOT)
    scan = populated / "scans" / "scan 扫描.bin"
    scan_bytes = scan.read_bytes()
    result = create_backup(PASSPHRASE, output=tmp_path / "zoo.dbs")
    assert result.rows["zoo.Article"] == 25 and result.rows["zoo.Note"] == 2  # soft-deleted row included
    assert result.files == len(files_before) + 1  # + the FILE_PATH scan
    wipe()
    clear_media(settings.MEDIA_ROOT)
    scan.unlink()
    restored = restore_backup(result, PASSPHRASE)
    assert not restored.healed and restored.warnings == []
    assert table_rows() == before
    assert media_files(settings.MEDIA_ROOT) == files_before
    assert scan.read_bytes() == scan_bytes
    assert restored.records_loaded == result.records
    assert restored.files_written == result.files


def test_auto_now_and_microseconds_survive(populated, tmp_path):
    from zoo.models import Article, Author, Membership

    stamps = {a.pk: (a.created, a.updated) for a in Author.objects.all()}
    assert any(created.microsecond == 789012 for created, _ in stamps.values())
    joined = sorted(Membership.objects.values_list("joined", flat=True))
    published = sorted(p for p in Article.objects.values_list("published", flat=True) if p)
    blob = create_backup(PASSPHRASE)
    wipe()
    restore_backup(blob, PASSPHRASE)
    assert {a.pk: (a.created, a.updated) for a in Author.objects.all()} == stamps
    assert sorted(Membership.objects.values_list("joined", flat=True)) == joined
    assert sorted(p for p in Article.objects.values_list("published", flat=True) if p) == published
    assert joined[0].microsecond == 999999


def test_excluded_field_gets_its_default(populated):
    from zoo.models import Article

    assert Article.objects.exclude(render_cache="").exists()
    blob = create_backup(PASSPHRASE)
    assert b"cached!" not in blob
    wipe()
    restore_backup(blob, PASSPHRASE)
    assert set(Article.objects.values_list("render_cache", flat=True)) == {""}


def test_no_model_signal_fires_on_restore(populated):
    blob = create_backup(PASSPHRASE)
    wipe()
    fired = []

    def receiver(sender, **kwargs):
        fired.append(sender)

    for signal in (pre_save, post_save, m2m_changed):
        signal.connect(receiver, weak=False)
    try:
        restore_backup(blob, PASSPHRASE)
    finally:
        for signal in (pre_save, post_save, m2m_changed):
            signal.disconnect(receiver)
    assert fired == []


def test_app_signals_are_sent(populated):
    from dbs import signals

    seen = []
    handlers = {name: (lambda name: lambda sender, **kw: seen.append((name, kw)))(name)
                for name in ("pre_backup", "post_backup", "pre_restore", "post_restore")}
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler, weak=False)
    try:
        blob = create_backup(PASSPHRASE)
        restore_backup(blob, PASSPHRASE, flush=True)
    finally:
        for name, handler in handlers.items():
            getattr(signals, name).disconnect(handler)
    assert [name for name, _ in seen] == ["pre_backup", "post_backup", "pre_restore", "post_restore"]
    assert seen[1][1]["result"].records > 0 and seen[3][1]["result"].records_loaded > 0


def test_sequences_are_usable_after_restore(populated):
    from zoo.models import Category, Tag

    blob = create_backup(PASSPHRASE)
    wipe()
    restore_backup(blob, PASSPHRASE)
    top = max(Tag.objects.values_list("pk", flat=True))
    assert Tag.objects.create(name="after restore").pk > top
    assert Category.objects.create(name="new").pk > 2


def test_dry_run_loads_nothing_and_writes_no_file(populated, settings):
    blob = create_backup(PASSPHRASE)
    wipe()
    clear_media(settings.MEDIA_ROOT)
    result = restore_backup(blob, PASSPHRASE, dry_run=True)
    assert result.dry_run and result.records_loaded > 0 and result.files_written == 0
    assert all(rows == [] for rows in table_rows().values())
    assert media_files(settings.MEDIA_ROOT) == {}


def test_merge_replaces_rows_with_the_backups_keys_and_keeps_the_others(populated):
    """loaddata semantics: a backup row replaces the row with its primary key, other rows
    stay; rows that point at a replaced row still point at it; sequences still usable."""
    from zoo.models import Article, Author, Tag

    before = table_rows()
    blob = create_backup(PASSPHRASE)
    python = Tag.objects.get(name="python")
    Tag.objects.filter(pk=python.pk).update(name="renamed")
    extra = Tag.objects.create(name="extra")
    author = Author.objects.order_by("pk").first()
    Author.objects.filter(pk=author.pk).update(name="changed")
    mine = Article.objects.create(author=author, title="written after the backup", body="kept")
    mine.tags.add(extra, python)
    result = restore_backup(blob, PASSPHRASE)
    assert sorted(Tag.objects.values_list("pk", "name")) == sorted(before["zoo.Tag"] + [(extra.pk, "extra")])
    assert Author.objects.get(pk=author.pk).name == author.name
    kept = Article.objects.get(pk=mine.pk)
    assert kept.author_id == author.pk and kept.body == "kept"
    assert sorted(kept.tags.values_list("name", flat=True)) == ["extra", "python"]
    assert Article.objects.count() == len(before["zoo.Article"]) + 1
    tags = len(before["zoo.Tag"])
    assert f"zoo.Tag: {tags + 1} rows were already present; {tags} had a primary key of the backup " \
           "and were replaced by its rows, the other 1 kept" in result.warnings
    assert Tag.objects.create(name="after merge").pk > extra.pk
    assert Article.objects.create(author=author, title="t", body="b").pk > mine.pk
    again = restore_backup(blob, PASSPHRASE, flush=True)
    assert table_rows() == before
    assert again.warnings == []


def test_merge_replaces_a_many_to_many_link_the_target_holds_under_another_id(populated):
    from zoo.models import Article

    before = table_rows()
    blob = create_backup(PASSPHRASE)
    article = Article.objects.filter(tags__isnull=False).order_by("pk").first()
    tags = list(article.tags.all())
    article.tags.clear()
    article.tags.add(*tags)  # the same (article, tag) pairs under new ids
    restore_backup(blob, PASSPHRASE)
    assert table_rows() == before


def test_merge_into_tables_with_other_rows_warns(populated):
    from zoo.models import Tag

    blob = create_backup(PASSPHRASE)
    wipe()
    Tag.objects.create(pk=10_000, name="already here")
    result = restore_backup(blob, PASSPHRASE)
    assert any("zoo.Tag: 1 rows were already present" in w for w in result.warnings)
    assert Tag.objects.count() == 4


def test_subset_restore(populated):
    from zoo.models import Article, Tag

    before = table_rows()
    blob = create_backup(PASSPHRASE)
    wipe()
    result = restore_backup(blob, PASSPHRASE, models=["zoo.Tag", "zoo.Category"])
    assert set(result.rows) == {"zoo.Tag", "zoo.Category"}
    assert list(Tag.objects.order_by("pk").values_list("pk", "name")) == before["zoo.Tag"]
    assert not Article.objects.exists()
    with pytest.raises(Exception, match="does not hold: zoo.nosuch"):
        restore_backup(blob, PASSPHRASE, models=["zoo.NoSuch"])


def test_generic_foreign_keys_land_on_the_targets_own_content_types(populated):
    from django.contrib.contenttypes.models import ContentType
    from zoo.models import Article, Comment

    first = Comment.objects.order_by("pk").first()
    blob = create_backup(PASSPHRASE)
    wipe()
    # The target database's content type for zoo.article gets another primary key.
    old = ContentType.objects.get_for_model(Article).pk
    ContentType.objects.filter(pk=old).delete()
    ContentType.objects.clear_cache()
    new = ContentType.objects.create(app_label="zoo", model="article").pk
    assert new != old
    restore_backup(blob, PASSPHRASE)
    restored = Comment.objects.get(pk=first.pk)
    assert restored.content_type_id == new
    assert restored.target == Article.objects.get(pk=first.object_id)


def test_permissions_and_groups_by_natural_key(populated):
    from django.contrib.auth.models import User

    blob = create_backup(PASSPHRASE)
    wipe()
    restore_backup(blob, PASSPHRASE)
    user = User.objects.get(username="ada")
    assert user.has_perm("zoo.change_article") and user.has_perm("zoo.view_author")
    assert user.check_password("pw")


@pytest.mark.skipif(connections.settings["other"]["ENGINE"] == connections.settings["default"]["ENGINE"],
                    reason="the other engine (PostgreSQL) is not configured: set DBS_TEST_PG_PORT")
def test_cross_database_restore_is_row_identical(populated, tmp_path):
    other = connections["other"].vendor
    assert other != connections["default"].vendor
    before = table_rows()
    result = create_backup(PASSPHRASE, output=tmp_path / "cross.dbs")
    restore_backup(result, PASSPHRASE, using="other")
    assert table_rows("other") == before
    # ... and back the other way, from what the other engine now holds.
    again = create_backup(PASSPHRASE, output=tmp_path / "back.dbs", using="other")
    wipe()
    restore_backup(again, PASSPHRASE)
    assert table_rows() == before
    wipe("other")


def test_restore_into_the_other_alias_when_same_engine(populated, tmp_path):
    before = table_rows()
    blob = create_backup(PASSPHRASE)
    restore_backup(blob, PASSPHRASE, using="other")
    assert table_rows("other") == before
    wipe("other")


def test_bytes_and_path_api(populated, tmp_path):
    blob = create_backup(PASSPHRASE)
    assert isinstance(blob, bytes) and blob[:4] != b"{"
    report = validate_backup(blob, PASSPHRASE)
    assert report.ok and not report.healed and report.decrypted
    assert "decrypted and verified" in report.summary()
    assert report.manifest["django_version"]
    structural = validate_backup(blob)
    assert structural.ok and not structural.decrypted
    written = create_backup(PASSPHRASE, output=tmp_path / "api.dbs")
    assert os.fspath(written) == str(tmp_path / "api.dbs")
    assert oct(os.stat(written).st_mode & 0o777) == "0o600"


def test_restore_counts_the_streamed_file_bytes(populated, tmp_path, settings):
    result = create_backup(PASSPHRASE, output=tmp_path / "bytes.dbs")
    assert result.file_bytes > 100_000
    wipe()
    clear_media(settings.MEDIA_ROOT)
    (populated / "scans" / "scan 扫描.bin").unlink()
    seen = {"files": 0, "bytes": 0}

    def progress(rows=0, files=0, bytes=0):
        seen["files"] += files
        seen["bytes"] += bytes

    restored = restore_backup(result, PASSPHRASE, progress=progress)
    assert seen == {"files": result.files, "bytes": result.file_bytes}
    assert restored.file_bytes == result.file_bytes and restored.as_dict()["file_bytes"] == result.file_bytes
    rehearsal = restore_backup(result, PASSPHRASE, dry_run=True)
    assert rehearsal.file_bytes == 0 and rehearsal.files_written == 0


def test_a_generated_field_is_not_written_and_the_database_recomputes_it(populated, tmp_path):
    from zoo.models import Box

    Box.objects.bulk_create([Box(width=w, height=h) for w, h in ((2, 3), (7, 11), (0, 5))])
    before = sorted(Box.objects.values_list("pk", "width", "height", "area"))
    assert [area for *_, area in before] == [6, 77, 0]
    result = create_backup(PASSPHRASE, output=tmp_path / "generated.dbs")
    assert result.rows["zoo.Box"] == 3
    manifest = validate_backup(result, PASSPHRASE).manifest
    box = next(m for m in manifest["models"] if m["label"] == "zoo.Box")
    assert [f["attname"] for f in box["fields"]] == ["id", "width", "height"]  # area not in the backup
    wipe()
    restored = restore_backup(result, PASSPHRASE)
    assert restored.rows["zoo.Box"] == 3 and restored.warnings == []
    assert sorted(Box.objects.values_list("pk", "width", "height", "area")) == before
    Box.objects.filter(width=7).update(height=2)  # still computed by the database after the restore
    assert Box.objects.get(width=7).area == 14


def test_groups_permissions_and_generic_keys_land_on_the_targets_own_rows(populated):
    """The target's ContentType and Permission primary keys all differ from the source's
    (fillers created first, then the zoo's re-created in reverse): the restored group,
    user permissions and generic foreign keys must point at the target's own rows."""
    from django.apps import apps as installed
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from zoo.models import Article, Author, Comment

    source_types = {m: ContentType.objects.get_for_model(m).pk for m in (Article, Author)}
    source_perms = dict(Permission.objects.filter(content_type__app_label="zoo").values_list("codename", "pk"))
    comments = {c.pk: (c.content_type.model, c.object_id) for c in Comment.objects.all()}
    blob = create_backup(PASSPHRASE)
    wipe()
    ContentType.objects.filter(app_label="zoo").delete()  # their permissions go with them
    ContentType.objects.clear_cache()
    ContentType.objects.bulk_create([ContentType(app_label="filler", model=f"m{i}") for i in range(7)])
    models = list(installed.get_app_config("zoo").get_models())
    for model in reversed(models):
        ContentType.objects.create(app_label="zoo", model=model._meta.model_name)
    for model in models:
        content_type = ContentType.objects.get(app_label="zoo", model=model._meta.model_name)
        for action in reversed(model._meta.default_permissions):
            Permission.objects.create(codename=f"{action}_{model._meta.model_name}", content_type=content_type,
                                      name=f"Can {action} {model._meta.verbose_name_raw}")
    ContentType.objects.clear_cache()
    target_types = {m: ContentType.objects.get_for_model(m).pk for m in (Article, Author)}
    target_perms = dict(Permission.objects.filter(content_type__app_label="zoo").values_list("codename", "pk"))
    assert all(target_types[m] != source_types[m] for m in target_types)
    assert all(target_perms[c] != source_perms[c] for c in ("change_article", "view_author"))
    types_before, perms_before = ContentType.objects.count(), Permission.objects.count()
    restore_backup(blob, PASSPHRASE)
    assert ContentType.objects.count() == types_before and Permission.objects.count() == perms_before
    editors = Group.objects.get(name="editors")
    assert list(editors.permissions.values_list("pk", flat=True)) == [target_perms["change_article"]]
    ada = User.objects.get(username="ada")
    assert list(ada.user_permissions.values_list("pk", flat=True)) == [target_perms["view_author"]]
    assert ada.has_perm("zoo.change_article") and ada.has_perm("zoo.view_author")
    by_model = {"article": target_types[Article], "author": target_types[Author]}
    for pk, (model, object_id) in comments.items():
        comment = Comment.objects.get(pk=pk)
        assert comment.content_type_id == by_model[model] and comment.object_id == object_id
        assert comment.target is not None and str(comment.target.pk) == object_id
