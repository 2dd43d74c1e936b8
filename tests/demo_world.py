"""The demo cohort for tests that read it: loaded once per test process, put back into each test.

`manage.py load_demo` imports 73 patients and derives them, which takes seconds, and many tests only
read the result. `command_snapshot()` runs the real command once, inside a transaction that it rolls
back, and keeps every row the command added (in every table, the audit trail's included) with what it
printed. `demo_cohort_put_back()` inserts those rows again, one executemany per table, into the
transaction of a test that asks for them, in a fraction of a second: each test still starts from the
database as the command leaves it, and what a test writes is rolled back with the test's own
transaction, so no test sees another's writes.

Fixtures: `demo_cohort_snapshot` (once per process) and `demo_cohort_loaded` (per test) in
tests/conftest.py; tests/test_seed_demo.py shares a first `seed_demo` the same way. Tests of what the
commands do to a database that is not empty (a second run, chosen settings or passwords, a broken
file) still call the commands.
"""
import io
from dataclasses import dataclass

from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction


@dataclass(frozen=True)
class TableRows:
    """The rows one model's table gained: its columns and each row's values as the database takes
    them (prepared by the fields once, when the snapshot is taken)."""

    model: type[models.Model]
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


def _stored_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy]


def _table(model: type[models.Model]) -> tuple[tuple[str, ...], dict]:
    """(attnames, {primary key: row}) of everything in the model's table now."""
    attnames = tuple(field.attname for field in model._meta.concrete_fields)
    key = attnames.index(model._meta.pk.attname)
    return attnames, {row[key]: row for row in model._base_manager.values_list(*attnames)}


def demo_cohort_rows() -> tuple[TableRows, ...]:
    """The rows `load_demo` adds to the test database (command_snapshot)."""
    return command_snapshot("load_demo").tables


@dataclass(frozen=True)
class CommandSnapshot:
    tables: tuple[TableRows, ...]
    output: str  # what the command printed


def command_snapshot(name: str, *arguments: str) -> CommandSnapshot:
    """Runs the management command on the (empty) test database inside a transaction rolled back at
    the end, and returns the rows it added and what it printed. Precondition: no transaction is open
    and the database holds only what the migrations put there. Raises AssertionError if the command
    changed or deleted a row that was there before, or wrote a row pointing at one: putting back added
    rows alone would then not give the command's result."""
    stored = _stored_models()
    output = io.StringIO()
    with transaction.atomic():
        before = {model: _table(model)[1] for model in stored}
        call_command(name, *arguments, stdout=output)
        added = []
        for model in stored:
            attnames, after = _table(model)
            earlier = before[model]
            changed = [key for key, row in earlier.items() if after.get(key) != row]
            assert not changed, f"{name} changed or deleted {model.__name__} rows {changed[:5]}"
            new = [row for key, row in after.items() if key not in earlier]
            if new:
                added.append(_prepared(model, attnames, new))
        for table in added:
            for field in table.model._meta.concrete_fields:
                target = field.related_model if field.is_relation else None
                assert target is None or not before.get(target), (
                    f"{name} wrote {table.model.__name__}.{field.name} rows that may point at "
                    f"{target.__name__} rows of the migrations, which a snapshot cannot promise to keep")
        transaction.set_rollback(True)
    return CommandSnapshot(tables=tuple(added), output=output.getvalue())


def _prepared(model: type[models.Model], attnames: tuple[str, ...], rows: list[tuple]) -> TableRows:
    fields = model._meta.concrete_fields  # the order of _table's attnames
    return TableRows(
        model=model, columns=tuple(field.column for field in fields),
        rows=tuple(tuple(field.get_db_prep_save(value, connection) for field, value in zip(fields, row))
                   for row in rows),
    )


def demo_cohort_put_back(tables: tuple[TableRows, ...]) -> None:
    """Inserts the rows of `demo_cohort_rows()` (or of another command_snapshot) into the current
    transaction. Precondition: those tables hold none of these keys, as on the empty test database.
    Django declares foreign keys deferred to the commit on both databases, so the order of the tables
    does not matter."""
    with connection.cursor() as cursor:
        for table in tables:
            names = ", ".join(connection.ops.quote_name(column) for column in table.columns)
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table.model._meta.db_table)} ({names}) "
                f"VALUES ({', '.join(['%s'] * len(table.columns))})",
                table.rows,
            )
    if connection.vendor == "postgresql":
        _sequences_past_the_rows(tables)


def _sequences_past_the_rows(tables: tuple[TableRows, ...]) -> None:
    """Explicit keys do not move PostgreSQL's sequences: move each one past the largest key put back
    (never backwards), so a row the test creates next gets a free key."""
    with connection.cursor() as cursor:
        for table in tables:
            pk = table.model._meta.pk
            if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
                continue
            quoted_table = connection.ops.quote_name(table.model._meta.db_table)
            quoted_pk = connection.ops.quote_name(pk.column)
            cursor.execute(
                f"SELECT setval(sequence, largest) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass "
                f"AS sequence, (SELECT MAX({quoted_pk}) FROM {quoted_table}) AS largest) AS found "
                f"WHERE sequence IS NOT NULL AND largest > COALESCE(pg_sequence_last_value(sequence), 0)",
                [table.model._meta.db_table, pk.column],
            )

