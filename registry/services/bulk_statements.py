"""INSERT and UPDATE of thousands of rows in one statement each, with their audit trail.

What bulk_create, bulk_update and django-simple-history's bulk_create_with_history and
bulk_update_with_history write, without what makes them slow at this scale: a compiled expression
per value (bulk_create prepares 2.9 million values for the REST API benchmark's 1,000 patients;
bulk_update builds a CASE WHEN per value), a model instance per history row, and the values sent
a second time for the history rows.

- PostgreSQL gets one binary COPY FROM STDIN for new rows (psycopg 3's `Cursor.copy`, the columns'
  types without their length so that the column refuses a value too long rather than truncating
  it); where the caller needs the new rows' ids, one query first reserves them from the table's
  sequence and the COPY writes them. An upsert and an UPDATE get one array per column,
  `INSERT ... SELECT ... FROM unnest(...) ON CONFLICT` and `UPDATE ... FROM unnest(...)`, one
  statement whatever the number of rows (as Django 5.2's own bulk_create does).
- SQLite gets multi-row VALUES (within its 999 parameters) where ids are returned, an executemany
  elsewhere.
- The history rows are copied from the rows just written, by id, in one INSERT ... SELECT: the
  audit trail holds what the table holds.

Values are prepared by their model field as bulk_create prepares them (get_db_prep_save), except
the values that preparation passes unchanged (a str for a text field, an int for an integer one,
...), and the members of IntegerChoices and bools in integer fields, which go as int(value), what
that preparation makes of them.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

# The values each kind of field passes unchanged through get_db_prep_save, by backend: those are
# sent as they are. Any other value (an IntegerChoices member, a bool in an integer field, a date
# on SQLite, which stores text) is prepared by its field.
_UNCHANGED_TYPES = {
    "CharField": str, "TextField": str, "SlugField": str, "EmailField": str,
    "AutoField": int, "BigAutoField": int, "SmallAutoField": int, "IntegerField": int, "BigIntegerField": int,
    "SmallIntegerField": int, "PositiveIntegerField": int, "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "BooleanField": bool,
    "DecimalField": Decimal,
}
_UNCHANGED_TYPES_POSTGRESQL = {**_UNCHANGED_TYPES, "DateField": date, "DateTimeField": datetime}
_NONE = type(None)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], *, upsert_on: str | None = None,
    returning_ids: bool = False,
) -> list[int]:
    """INSERTs the rows (tuples of the values of the fields named `columns`) in one statement.

    `upsert_on`: the unique field whose conflict updates every other column instead.
    `returning_ids`: answers the primary keys of the new rows, in the order of `rows` (SQLite: one
    statement per 999 values).
    """
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(field.column) for field in fields)
    suffix = ""
    if upsert_on is not None:
        conflict = model._meta.get_field(upsert_on).column
        suffix = f" ON CONFLICT ({quote(conflict)}) DO UPDATE SET " + ", ".join(
            f"{quote(field.column)} = EXCLUDED.{quote(field.column)}" for field in fields if field.column != conflict
        )
    if returning_ids:
        suffix += f" RETURNING {quote(model._meta.pk.column)}"
    values = _prepared_columns(fields, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and upsert_on is None:
            return _copy_rows(cursor, model, fields, values, returning_ids=returning_ids)
        if connection.vendor == "postgresql":
            aliases = [f"c{number}" for number in range(len(fields))]
            selected = ", ".join(
                f"{alias}::jsonb" if field.get_internal_type() == "JSONField" else alias
                for alias, field in zip(aliases, fields)
            )
            arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in fields)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {selected} "
                f"FROM unnest({arrays}) AS rows ({', '.join(aliases)}){suffix}",
                values,
            )
            return [row[0] for row in cursor.fetchall()] if returning_ids else []
        prepared_rows = list(zip(*values))
        row_placeholder = f"({', '.join(['%s'] * len(fields))})"
        if not returning_ids:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {row_placeholder}{suffix}", prepared_rows)
            return []
        ids = []
        per_statement = max(1, connection.features.max_query_params // len(fields))
        for start in range(0, len(prepared_rows), per_statement):
            batch = prepared_rows[start:start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row_placeholder] * len(batch))}{suffix}",
                [value for row in batch for value in row],
            )
            ids.extend(row[0] for row in cursor.fetchall())
        return ids


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """UPDATEs the rows (tuples of the primary key, then the values of the fields named `columns`),
    in one statement."""
    if not rows:
        return
    pk = model._meta.pk
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    values = _prepared_columns([pk, *fields], rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            aliases = [f"c{number}" for number in range(len(fields))]
            assignments = ", ".join(
                f"{quote(field.column)} = " + (f"rows.{alias}::jsonb" if field.get_internal_type() == "JSONField"
                                              else f"rows.{alias}")
                for alias, field in zip(aliases, fields)
            )
            arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in [pk, *fields])
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS rows (id, {', '.join(aliases)}) "
                f"WHERE {table}.{quote(pk.column)} = rows.id",
                values,
            )
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",
                [(*row[1:], row[0]) for row in zip(*values)],
            )


# ---------------------------------------------------------------------------- with the audit trail

def create_with_history(model: type[models.Model], instances: Sequence[models.Model], *, user,
                        change_reason: str, date: datetime | None = None) -> None:
    """bulk_create_with_history(instances, model, default_user=user, default_change_reason=...,
    default_date=date): the new instances in one INSERT (on PostgreSQL one COPY, after one query
    reserving their ids; their primary keys set, as bulk_create sets them), then their history rows
    ("+") in one INSERT ... SELECT. `auto_now` and `auto_now_add` fields get `date` (None: the time
    of the write), which is also the history rows' date. A foreign key whose id is unset takes the
    id of the parent instance it was given, once that was written (as bulk_create does)."""
    if not instances:
        return
    now = timezone.now() if date is None else date
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            stamp = now if isinstance(field, models.DateTimeField) else now.date()
            for instance in instances:
                setattr(instance, field.attname, stamp)
        elif field.is_relation:
            _parent_ids(field, instances)
    row_of = attrgetter(*[field.attname for field in fields])
    rows = [row_of(instance) for instance in instances] if len(fields) > 1 else [
        (row_of(instance),) for instance in instances]
    ids = insert_rows(model, [field.name for field in fields], rows, returning_ids=True)
    alias = connection.alias  # once: `connection` is a proxy, each attribute a lookup
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = alias
    _copy_to_history(model, ids, history_type="+", user=user, change_reason=change_reason, date=now,
                     example=instances[0])


def _parent_ids(field, instances: Sequence[models.Model]) -> None:
    """Sets the foreign key `field` of the instances given their parent before it was written (what
    Model._prepare_related_fields_for_save does for bulk_create); refuses a parent still unsaved."""
    attname, name = field.attname, field.name
    for instance in instances:
        attributes = instance.__dict__
        if attributes.get(attname) is None:
            parent = instance._state.fields_cache.get(name)
            if parent is None:
                continue
            if parent.pk is None:
                raise ValueError(f"create_with_history() prohibited to prevent data loss due to unsaved related "
                                 f"object '{name}'.")
            # As setattr(instance, name, parent) would set it, the cached parent kept
            attributes[attname] = parent.pk


def update_with_history(model: type[models.Model], instances: Sequence[models.Model], columns: Sequence[str], *,
                        user, change_reason: str) -> None:
    """bulk_update_with_history(instances, model, columns, default_user=user, default_change_reason=...):
    the instances' `columns` in one UPDATE, then their history rows ("~") in one INSERT ... SELECT."""
    if not instances:
        return
    attnames = [model._meta.get_field(name).attname for name in columns]
    update_rows(model, columns, [
        (instance.pk, *[getattr(instance, attname) for attname in attnames]) for instance in instances
    ])
    _copy_to_history(model, [instance.pk for instance in instances], history_type="~", user=user,
                     change_reason=change_reason, date=timezone.now(), example=instances[0])


def _copy_to_history(model, ids: list[int], *, history_type: str, user, change_reason: str, date,
                     example: models.Model) -> None:
    """The history rows of the rows `ids`, in that order, as bulk_history_create writes them: every
    tracked field, the date, the reason, the type, and the user (when None, the one of the request
    being served, as simple-history's middleware gives it, or none)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = get_history_manager_for_model(model).model
    if user is None:
        user = history.get_default_history_user(example)
    quote = connection.ops.quote_name
    tracked = [field.name for field in history.tracked_fields]
    source = ", ".join(f"source.{quote(model._meta.get_field(name).column)}" for name in tracked)
    target = ", ".join(quote(history._meta.get_field(name).column) for name in (
        *tracked, "history_date", "history_change_reason", "history_type", "history_user",
    ))
    pk = quote(model._meta.pk.column)
    constants = [
        history._meta.get_field("history_date").get_db_prep_save(date, connection), change_reason, history_type,
        None if user is None else user.pk,
    ]
    if connection.vendor == "postgresql":
        given = "unnest(%s::bigint[]) WITH ORDINALITY AS given (id, position)"
        order, ids_parameter = "given.position", ids
    else:  # a JSON array's elements, with their index as `key`
        given = "json_each(%s) AS given"
        order, ids_parameter = "given.key", json.dumps(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({target}) SELECT {source}, %s, %s, %s, %s "
            f"FROM {quote(model._meta.db_table)} AS source JOIN {given} ON source.{pk} = given."
            f"{'id' if connection.vendor == 'postgresql' else 'value'} ORDER BY {order}",
            [*constants, ids_parameter],
        )


# ---------------------------------------------------------------------------- COPY (PostgreSQL)

def _copy_rows(cursor, model, fields, values: list[list], *, returning_ids: bool) -> list[int]:
    """Writes the prepared columns `values` with one binary COPY FROM STDIN (psycopg 3's
    `Cursor.copy`); `returning_ids`: the primary keys are first reserved from the table's sequence
    (one query: nextval per row, the values another transaction cannot take) and written with the
    rows, in their order.

    The COPY's types are the columns' own without their length or precision (as `_array_type`), so
    that PostgreSQL applies the column's: a value too long for a varchar is refused, not truncated.
    JSON arrives as the text `_prepared_columns` made of it, sent as it is (psycopg's Jsonb with the
    text already dumped).
    """
    from psycopg.types.json import Jsonb  # PostgreSQL's driver: not needed on SQLite

    quote = connection.ops.quote_name
    count = len(values[0])
    ids: list[int] = []
    if returning_ids:
        pk = model._meta.pk
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
            [model._meta.db_table, pk.column, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        fields, values = [pk, *fields], [ids, *values]
    types = [_copy_type(field) for field in fields]
    for position, field in enumerate(fields):
        if field.get_internal_type() == "JSONField":
            values[position] = [None if value is None else Jsonb(value, dumps=_as_is) for value in values[position]]
    names = ", ".join(quote(field.column) for field in fields)
    # Django wraps the errors of execute() (DataError, IntegrityError, ...), not those of copy()
    with connection.wrap_database_errors, cursor.copy(
        f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(types)
        write_row = copy.write_row
        for row in zip(*values):
            write_row(row)
    return ids


def _as_is(text: str) -> str:
    return text


def _copy_type(field) -> str:
    """The binary COPY type of a column: its own, without length or precision (see `_array_type`)."""
    if field.get_internal_type() == "JSONField":
        return "jsonb"
    return field.db_type(connection).split("(")[0]


# ---------------------------------------------------------------------------- values

def _array_type(field) -> str:
    """The element type of a column's array: without its length or precision, as Django's own
    unnest INSERT, so that a value too long is refused by the column rather than truncated."""
    if field.get_internal_type() == "JSONField":
        return "text"  # cast to jsonb element by element
    return field.db_type(connection).split("(")[0]


def _prepared_columns(fields, rows: Sequence[tuple]) -> list[list]:
    """The rows' values column by column, each prepared for its field (see the module's docstring)."""
    unchanged_types = _UNCHANGED_TYPES_POSTGRESQL if connection.vendor == "postgresql" else _UNCHANGED_TYPES
    columns = [list(values) for values in zip(*rows)]
    for position, field in enumerate(fields):
        internal_type = (field.target_field if field.is_relation else field).get_internal_type()
        values = columns[position]
        if internal_type == "JSONField":
            encoder = field.encoder
            columns[position] = [None if value is None else json.dumps(value, cls=encoder) for value in values]
            continue
        unchanged = unchanged_types.get(internal_type)
        if unchanged is not None:
            kinds = set(map(type, values)) - {_NONE}
            if kinds <= {unchanged}:
                continue
            if unchanged is int and all(issubclass(kind, int) for kind in kinds):
                # IntegerChoices members and bools: int(value) is what the field's get_prep_value makes of them
                columns[position] = [None if value is None else int(value) for value in values]
                continue
        columns[position] = [None if value is None else field.get_db_prep_save(value, connection) for value in values]
    return columns


class PlannerStatistics:
    """Keeps PostgreSQL's planner statistics of the tables a long write grows up to date, inside its
    transaction.

    An import of thousands of patients into a young registry reads, for every chunk, the rows it
    wrote for earlier chunks (keys, references, soft-check context). The planner's statistics are
    those of the last ANALYZE, taken when the tables were nearly empty: it then misjudges how many
    rows a lookup of a few patients finds, joins by reading whole tables, and each chunk costs more
    than the one before. ANALYZE may run in a transaction and samples the transaction's own new
    rows, so a table is analyzed whenever this write has put FIRST_AT rows into it, and again each
    time that count doubles: a few ANALYZEs (each samples at most 30,000 rows) for the largest
    import, none for a small one.

    An ANALYZE in a transaction holds its table's SHARE UPDATE EXCLUSIVE lock until the commit,
    which another import's ANALYZE would wait for (and two imports analyzing two tables in turn
    would deadlock). So the lock is asked for with NOWAIT, in a savepoint: when another write holds
    it, this one goes on without fresh statistics (that one's serve both). Ordinary reads and
    writes do not take that lock and never wait for it. Statistics taken in a transaction that is
    then rolled back stay until autovacuum's next ANALYZE. SQLite's planner uses its indexes
    without statistics: nothing is done there."""

    FIRST_AT = 5_000

    def __init__(self):
        self.written: dict[type[models.Model], int] = {}
        self.next_at: dict[type[models.Model], int] = {}

    def wrote(self, model: type[models.Model], rows: int) -> None:
        if not rows or connection.vendor != "postgresql":
            return
        written = self.written[model] = self.written.get(model, 0) + rows
        if written < self.next_at.get(model, self.FIRST_AT):
            return
        self.next_at[model] = written * 2
        table = connection.ops.quote_name(model._meta.db_table)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT")
                cursor.execute(f"ANALYZE {table}")
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise


_LOCK_NOT_AVAILABLE = "55P03"
