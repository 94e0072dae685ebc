"""Which models a backup holds and how each field is stored.

By default every concrete, managed model of the installed apps (and the
auto-created many-to-many tables of those models) except DEFAULT_EXCLUDED_MODELS;
DBS_EXCLUDE_MODELS adds to that list and "-app.Model" takes a default back. An
app's dbs.py registers a model with a ModelBackup to override the defaults for that
model only: registering one model never drops the others (django-dbs 0.1 backed up
nothing else once anything was registered).
"""
import enum
import threading
from dataclasses import dataclass

from django.apps import apps
from django.db import models as django_models
from django.db import router

from . import conf
from .exceptions import UsageError


class FieldType(enum.Enum):
    """How a field is backed up."""

    VALUE = "value"          # the column's value (default)
    FILE = "file"            # a FileField: its name, and the file's bytes from its storage
    FILE_PATH = "file_path"  # a string column naming a file on disk: the value and that file
    EXCLUDE = "exclude"      # not backed up; restored as the field's default


class ModelBackup:
    """How one model is backed up. Subclass it in an app's dbs.py:

        @backup_registry.register(Invoice)
        class InvoiceBackup(ModelBackup):
            overrides = {"scan_path": FieldType.FILE_PATH, "cache": FieldType.EXCLUDE}
            file_roots = ["/srv/app/uploads"]
    """

    #: {field name: FieldType} for the fields that differ from the default.
    overrides = {}
    #: Extra directory trees embedded with this model's backup.
    file_roots = []

    def __init__(self, model):
        self.model = model

    def get_queryset(self, model):
        """The rows to back up. The base manager by default, not the default manager:
        a soft-delete or tenant manager must not hide rows from a backup."""
        return model._base_manager.all()

    def field_type(self, field):
        """The FieldType of a concrete field: the override, else FILE for
        FileField/ImageField, else VALUE."""
        for key in (field.name, field.attname):
            if key in self.overrides:
                return FieldType(self.overrides[key])
        if isinstance(field, django_models.FileField):
            return FieldType.FILE
        return FieldType.VALUE


@dataclass(frozen=True)
class FieldPlan:
    """One column of a model's table as a backup stores it."""

    field: object
    kind: FieldType

    @property
    def attname(self):
        return self.field.attname


@dataclass(frozen=True)
class ModelPlan:
    """One model as a backup reads it: its own table's concrete fields (a
    multi-table child's parent fields are the parent's plan)."""

    model: type
    backup: ModelBackup
    fields: tuple  # FieldPlan of every stored (non-excluded) column, pk first
    excluded: tuple  # field names left out

    @property
    def label(self):
        return self.model._meta.label

    def file_fields(self):
        return [plan for plan in self.fields if plan.kind in (FieldType.FILE, FieldType.FILE_PATH)]


def _label_key(label):
    return label.strip().lower()


def stored_fields(model):
    """The concrete columns of `model`'s own table, pk first; GeneratedFields (computed
    by the database) are never written."""
    local = [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]
    pk = model._meta.pk
    return sorted(local, key=lambda f: f is not pk)


class BackupRegistry:
    """The models a backup holds: discovered by default, overridden per model."""

    def __init__(self):
        self._registered = {}
        self._lock = threading.Lock()

    def register(self, model, backup_class=None):
        """Registers `model` (also one excluded by default) with `backup_class`, or with
        ModelBackup when used bare (`backup_registry.register(Model)`). As a decorator,
        `@backup_registry.register(Model)` on a ModelBackup subclass. Other models keep
        their defaults."""
        if not (isinstance(model, type) and issubclass(model, django_models.Model)):
            raise UsageError(f"backup_registry.register expects a model class, got {model!r}")
        if backup_class is not None:
            self._store(model, backup_class)
            return backup_class
        self._store(model, ModelBackup)

        def decorator(cls):
            self._store(model, cls)
            return cls

        return decorator

    def _store(self, model, backup_class):
        if not (isinstance(backup_class, type) and issubclass(backup_class, ModelBackup)):
            raise UsageError(f"{model._meta.label} must be registered with a ModelBackup subclass, got {backup_class!r}")
        if model._meta.proxy:
            raise UsageError(f"{model._meta.label} is a proxy model: register its concrete model "
                             f"{model._meta.concrete_model._meta.label}, which carries the rows")
        with self._lock:
            self._registered[model] = backup_class

    def unregister(self, model):
        with self._lock:
            self._registered.pop(model, None)

    def is_registered(self, model):
        return model in self._registered

    def backup_for(self, model):
        """The ModelBackup instance for `model` (registered or the default one)."""
        return self._registered.get(model, ModelBackup)(model)

    def _excluded(self):
        excluded = {_label_key(label) for label in conf.DEFAULT_EXCLUDED_MODELS}
        for label in conf.get("DBS_EXCLUDE_MODELS"):
            if label.startswith("-"):
                excluded.discard(_label_key(label[1:]))
            else:
                excluded.add(_label_key(label))
        return excluded

    def _included(self, model, excluded, using):
        opts = model._meta
        if opts.proxy or opts.swapped or opts.concrete_model is not model:
            return False
        label = opts.label_lower
        explicit = _label_key(label) in {_label_key(l) for l in conf.get("DBS_EXCLUDE_MODELS")}
        if explicit:
            return False
        if opts.auto_created:
            owner = opts.auto_created
            return self._included(owner, excluded, using) and router.allow_migrate_model(using, model)
        if not self.is_registered(model):
            if label in excluded or not opts.managed:
                return False
        return router.allow_migrate_model(using, model)

    def selected_models(self, using="default"):
        """The models a backup of database `using` holds, parents and referenced
        models before the models that point to them."""
        excluded = self._excluded()
        chosen = [m for m in apps.get_models(include_auto_created=True) if self._included(m, excluded, using)]
        return dependency_order(chosen)

    def plan(self, model):
        backup = self.backup_for(model)
        names = {f.name for f in model._meta.concrete_fields} | {f.attname for f in model._meta.concrete_fields}
        unknown = [name for name in backup.overrides if name not in names]
        if unknown:
            raise UsageError(f"{model._meta.label}: overrides name no concrete field: {', '.join(sorted(unknown))}")
        fields, excluded = [], []
        for field in stored_fields(model):
            kind = backup.field_type(field)
            if kind is FieldType.EXCLUDE:
                if field.primary_key:
                    raise UsageError(f"{model._meta.label}: the primary key {field.name} cannot be EXCLUDE")
                excluded.append(field.name)
                continue
            if kind is FieldType.FILE and not isinstance(field, django_models.FileField):
                raise UsageError(f"{model._meta.label}.{field.name}: FieldType.FILE needs a FileField "
                                 "(FILE_PATH embeds the file a string column names)")
            if kind is FieldType.FILE_PATH and field.get_internal_type() not in ("CharField", "TextField", "FilePathField"):
                raise UsageError(f"{model._meta.label}.{field.name}: FieldType.FILE_PATH needs a string column")
            fields.append(FieldPlan(field, kind))
        return ModelPlan(model=model, backup=backup, fields=tuple(fields), excluded=tuple(excluded))

    def plans(self, using="default"):
        return [self.plan(model) for model in self.selected_models(using)]


def dependencies(model):
    """The models `model`'s own table points to (foreign keys, one-to-ones, parent links)."""
    related = []
    for field in model._meta.local_concrete_fields:
        if field.remote_field is not None and field.remote_field.model is not None:
            target = field.remote_field.model._meta.concrete_model
            if target is not model:
                related.append(target)
    return related


def dependency_order(models):
    """`models` ordered so that every model comes after those it references, where
    the references have no cycle (a cycle is broken at an arbitrary edge: the
    restore defers constraint checks to the end)."""
    chosen = set(models)
    ordered, state = [], {}

    def visit(model):
        if state.get(model) is not None:
            return
        state[model] = "visiting"
        for target in sorted(dependencies(model), key=lambda m: m._meta.label):
            if target in chosen and state.get(target) is None:
                visit(target)
        state[model] = "done"
        ordered.append(model)

    for model in sorted(models, key=lambda m: m._meta.label):
        visit(model)
    return ordered


backup_registry = BackupRegistry()
