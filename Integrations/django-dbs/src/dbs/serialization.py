"""Column values <-> the JSON lines of a records entry, losslessly across databases.

A row is one JSON array per line, its values in the manifest's field order. Values
come from the ORM (`values_list`, so already Python: aware datetimes, Decimal, UUID)
and are encoded by type; they are decoded by the target field's type and written
with `field.get_db_prep_save`, so a row read on SQLite loads into PostgreSQL and
back with every microsecond. References to ContentType and Permission are stored
by natural key (their primary keys differ between databases).
"""
import base64
import datetime
import decimal
import json
import uuid

from django.db import models

from .exceptions import DBSError

NATURAL_KEY_MODELS = ("contenttypes.contenttype", "auth.permission")


def value_field(field):
    """The field whose type a column's values have (a foreign key's target field)."""
    seen = 0
    while field.remote_field is not None and getattr(field, "target_field", None) is not None and seen < 16:
        field, seen = field.target_field, seen + 1
    return field


def natural_key_target(field):
    """'contenttypes.contenttype' / 'auth.permission' when `field` references one, else None."""
    if field.remote_field is None or field.remote_field.model is None:
        return None
    label = field.remote_field.model._meta.label_lower
    return label if label in NATURAL_KEY_MODELS else None


def encode_value(value):
    """A Python column value as JSON (datetimes ISO 8601 with microseconds)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(microseconds=1)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):  # ArrayField and friends
        return [encode_value(item) for item in value]
    return str(value)


class RowEncoder:
    """Encodes rows of one model: natural keys for ContentType/Permission references,
    JSON fields as their JSON text (so SQL NULL and JSON values stay apart)."""

    def __init__(self, fields, natural_keys):
        self._steps = []
        for field in fields:
            target = natural_key_target(field)
            if target:
                self._steps.append(lambda v, t=target: None if v is None else natural_keys.key_for(t, v))
            elif isinstance(field, models.JSONField):
                self._steps.append(lambda v, f=field: None if v is None else json.dumps(v, cls=f.encoder))
            else:
                self._steps.append(encode_value)

    def line(self, row):
        return json.dumps([step(value) for step, value in zip(self._steps, row)], ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8") + b"\n"


def _decoder(field):
    base = value_field(field)
    kind = base.get_internal_type()
    if isinstance(field, models.JSONField):
        return lambda v: json.loads(v, cls=field.decoder)
    if kind == "DateTimeField":
        return datetime.datetime.fromisoformat
    if kind == "DateField":
        return datetime.date.fromisoformat
    if kind == "TimeField":
        return datetime.time.fromisoformat
    if kind == "DecimalField":
        return decimal.Decimal
    if kind == "UUIDField":
        return uuid.UUID
    if kind == "DurationField":
        return lambda v: datetime.timedelta(microseconds=v)
    if kind == "BinaryField":
        return lambda v: base64.b64decode(v)
    return None


class RowDecoder:
    """Decodes rows of one model into database parameters for the target's columns.
    `source_names` are the backup's attnames; `fields` the target's stored fields.
    A target column the backup lacks (EXCLUDE, or a field added since) gets its
    default."""

    def __init__(self, label, source_names, fields, connection, natural_keys):
        index = {name: i for i, name in enumerate(source_names)}
        self.label = label
        self._connection = connection
        self._steps = []
        for field in fields:
            position = index.get(field.attname)
            target = natural_key_target(field)
            decode = _decoder(field)
            if position is None:
                default = field.get_default()
                self._steps.append((None, None, field, default))
            elif target:
                self._steps.append((position, lambda v, t=target: natural_keys.pk_for(t, v), field, None))
            else:
                self._steps.append((position, decode, field, None))

    def params(self, line):
        try:
            values = json.loads(line)
        except ValueError as error:
            raise DBSError(f"{self.label}: a row of the backup is not valid JSON ({error})") from error
        params = []
        connection = self._connection
        for position, decode, field, default in self._steps:
            if position is None:
                value = default
            else:
                value = values[position]
                if value is not None and decode is not None:
                    try:
                        value = decode(value)
                    except (TypeError, ValueError, ArithmeticError) as error:
                        raise DBSError(f"{self.label}.{field.name}: cannot read {value!r} from the backup "
                                       f"as {field.get_internal_type()} ({error})") from error
            params.append(field.get_db_prep_save(value, connection))
        return params


class NaturalKeys:
    """ContentType and Permission primary keys <-> natural keys, on one database.
    Backup: pk -> key. Restore: key -> the target's pk, creating a missing content
    type (as migrate would) or permission."""

    def __init__(self, using):
        self.using = using
        self._keys = {}
        self._pks = {}

    def _load_keys(self, target):
        from django.apps import apps

        model = apps.get_model(target)
        if target == "contenttypes.contenttype":
            return {pk: [app, name] for pk, app, name in
                    model._base_manager.using(self.using).values_list("pk", "app_label", "model")}
        return {pk: [code, app, name, title] for pk, code, app, name, title in
                model._base_manager.using(self.using).values_list(
                    "pk", "codename", "content_type__app_label", "content_type__model", "name")}

    def key_for(self, target, pk):
        if target not in self._keys:
            self._keys[target] = self._load_keys(target)
        try:
            return self._keys[target][pk]
        except KeyError:
            raise DBSError(f"a row references {target} {pk}, which does not exist") from None

    def pk_for(self, target, key):
        from django.apps import apps

        cache = self._pks.setdefault(target, {})
        token = tuple(key)
        if token in cache:
            return cache[token]
        model = apps.get_model(target)
        manager = model._base_manager.using(self.using)
        if target == "contenttypes.contenttype":
            app_label, name = key[:2]
            row = manager.filter(app_label=app_label, model=name).values_list("pk", flat=True).first()
            if row is None:
                row = manager.create(app_label=app_label, model=name).pk
        else:
            codename, app_label, name = key[:3]
            content_type = self.pk_for("contenttypes.contenttype", [app_label, name])
            row = manager.filter(codename=codename, content_type_id=content_type).values_list("pk", flat=True).first()
            if row is None:
                title = key[3] if len(key) > 3 else codename
                row = manager.create(codename=codename, content_type_id=content_type, name=title).pk
        cache[token] = row
        return row
