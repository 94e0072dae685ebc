"""Which models a backup holds, and per-model overrides."""
import pytest
from django.apps import apps

from conftest import PASSPHRASE, table_rows, wipe
from dbs import FieldType, ModelBackup, backup_registry, create_backup, restore_backup
from dbs.exceptions import UsageError


def labels(using="default"):
    return [m._meta.label for m in backup_registry.selected_models(using)]


def test_discovery_defaults():
    chosen = labels()
    for label in ("contenttypes.ContentType", "auth.Permission", "admin.LogEntry", "sessions.Session"):
        assert label not in chosen
    assert "zoo.FamousRestaurant" not in chosen          # proxy: its concrete model carries the rows
    assert "zoo.ExternalView" not in chosen              # managed = False
    for label in ("zoo.Restaurant", "zoo.Place", "zoo.Article_tags", "zoo.Membership", "auth.User",
                  "auth.Group_permissions", "auth.User_groups", "zoo.Note"):
        assert label in chosen
    # Parents and referenced models come first.
    for before, after in (("zoo.Place", "zoo.Restaurant"), ("zoo.Author", "zoo.Article"),
                          ("zoo.Article", "zoo.Article_tags"), ("zoo.Tag", "zoo.Article_tags"),
                          ("auth.Group", "auth.Group_permissions")):
        assert chosen.index(before) < chosen.index(after)


def test_exclude_setting_and_taking_a_default_back(settings):
    settings.DBS_EXCLUDE_MODELS = ["zoo.Reading", "-sessions.Session", "zoo.Article"]
    chosen = labels()
    assert "zoo.Reading" not in chosen and "sessions.Session" in chosen
    assert "zoo.Article" not in chosen and "zoo.Article_tags" not in chosen  # its m2m table goes with it
    assert "contenttypes.ContentType" not in chosen


def test_registering_one_model_keeps_every_other():
    """django-dbs 0.1 backed up only registered models once one was registered."""
    assert backup_registry.is_registered(apps.get_model("zoo.Article"))  # zoo/dbs.py, autodiscovered
    chosen = labels()
    assert len(chosen) > 15 and "zoo.Tag" in chosen and "auth.User" in chosen
    plan = backup_registry.plan(apps.get_model("zoo.Article"))
    kinds = {f.field.name: f.kind for f in plan.fields}
    assert kinds["scan_path"] is FieldType.FILE_PATH and kinds["attachment"] is FieldType.FILE
    assert "render_cache" not in kinds and plan.excluded == ("render_cache",)
    profile = backup_registry.plan(apps.get_model("zoo.Profile"))
    assert {f.field.name: f.kind for f in profile.fields}["avatar"] is FieldType.FILE  # ImageField


def test_bare_registration_opts_in_a_default_excluded_model():
    from django.contrib.sessions.models import Session

    assert "sessions.Session" not in labels()
    backup_registry.register(Session)
    try:
        assert "sessions.Session" in labels()
    finally:
        backup_registry.unregister(Session)


def test_bad_registrations_are_clear_errors():
    Tag = apps.get_model("zoo.Tag")
    with pytest.raises(UsageError, match="proxy"):
        backup_registry.register(apps.get_model("zoo.FamousRestaurant"))
    with pytest.raises(UsageError, match="ModelBackup subclass"):
        backup_registry.register(Tag, object)

    class Typo(ModelBackup):
        overrides = {"nmae": FieldType.EXCLUDE}

    class NotAFile(ModelBackup):
        overrides = {"name": FieldType.FILE}

    for backup_class, message in ((Typo, "no concrete field: nmae"), (NotAFile, "needs a FileField")):
        backup_registry.register(Tag, backup_class)
        try:
            with pytest.raises(UsageError, match=message):
                backup_registry.plan(Tag)
        finally:
            backup_registry.unregister(Tag)


def test_router_decides_which_models_a_database_holds(settings):
    class OnlyAuthOnOther:
        def allow_migrate(self, db, app_label, **hints):
            return app_label == "auth" if db == "other" else None

    settings.DATABASE_ROUTERS = [OnlyAuthOnOther()]
    assert {label.split(".")[0] for label in labels("other")} == {"auth"}
    assert "zoo.Tag" in labels("default")


@pytest.mark.django_db(transaction=True)
def test_get_queryset_and_file_roots_overrides(populated, tmp_path, settings):
    Note = apps.get_model("zoo.Note")
    uploads = tmp_path / "uploads"
    (uploads / "deep").mkdir(parents=True)
    (uploads / "deep" / "ملف.txt").write_bytes(b"root file")

    class LiveNotes(ModelBackup):
        file_roots = [str(uploads)]

        def get_queryset(self, model):
            return model._base_manager.filter(deleted=False)

    backup_registry.register(Note, LiveNotes)
    try:
        result = create_backup(PASSPHRASE, output=tmp_path / "some.dbs")
    finally:
        backup_registry.unregister(Note)
    assert result.rows["zoo.Note"] == 1 and Note.all_objects.count() == 2
    wipe()
    (uploads / "deep" / "ملف.txt").unlink()
    restore_backup(result, PASSPHRASE, models=["zoo.Note"])
    assert list(Note.all_objects.values_list("text", flat=True)) == ["visible"]
    assert not (uploads / "deep" / "ملف.txt").exists()  # a subset restore leaves the roots alone
    restore_backup(result, PASSPHRASE, flush=True)
    assert (uploads / "deep" / "ملف.txt").read_bytes() == b"root file"
