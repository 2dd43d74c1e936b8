"""What the benchmarks share: the COPY floor, PostgreSQL's binary COPY of the rows a benchmark moved.

The floor is how long the database alone takes to move the same rows, with no Python per row: a
benchmark prints its own time beside it and the ratio of the two (issue 14). Two halves:

- `copy_out(querysets)`: COPY (SELECT ...) TO STDOUT (FORMAT BINARY) of each query, the bytes read
  and dropped; the reads of a run at their floor.
- `copy_in_rolled_back(selections)`: the selected rows are copied out (binary) and deleted, then
  COPY ... FROM STDIN (FORMAT BINARY) writes them back into their own tables, indexes, unique and
  foreign-key checks included (the deferred checks run as a COMMIT would run them); then everything
  is rolled back. Only the writing back is timed. The rows are the ones the run wrote, in the
  binary form PostgreSQL itself produced, so the floor leaves out turning Python values into bytes.

`TableSnapshot` tells which rows a step wrote: it notes every table's highest primary key before the
step; the rows above it afterwards are the new ones.

PostgreSQL only (psycopg 3's `Cursor.copy`): on SQLite the benchmarks say that no floor is measured.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction

# What the temporary files hold in memory before they spill to disk (a 100,000-patient cohort's
# audit trail is gigabytes).
_SPOOL_BYTES = 64 * 2**20
_BLOCK_BYTES = 2**20
_INTEGER_TYPES = {"smallint", "integer", "bigint"}


@dataclass(frozen=True)
class TableRows:
    """The rows of one table that `where` selects (SQL with %s placeholders for `params`)."""

    table: str
    columns: tuple[str, ...]
    where: str
    params: tuple = ()

    @classmethod
    def of_model(cls, model, where: str, params: Sequence = ()) -> TableRows:
        return cls(model._meta.db_table, tuple(f.column for f in model._meta.concrete_fields), where, tuple(params))


@dataclass
class CopyTiming:
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    check_seconds: float = 0.0  # of `seconds`, the deferred foreign-key checks (COPY FROM only)
    rows_by_table: dict[str, int] = field(default_factory=dict)

    def rows_by_table_text(self) -> str:
        ordered = sorted(self.rows_by_table.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{table} {rows}" for table, rows in ordered)


def floor_measurable() -> bool:
    return connection.vendor == "postgresql"


def copy_out(querysets: Iterable) -> CopyTiming:
    """Binary COPY TO of each queryset's own SQL, one after the other on one connection."""
    timing = CopyTiming()
    started = time.perf_counter()
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own: Django's debug wrapper of copy() takes no parameters
        for queryset in querysets:
            sql, params = queryset.query.sql_with_params()
            with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params) as copy:
                for block in copy:
                    timing.bytes += len(block)
            timing.rows += cursor.rowcount
            table = queryset.model._meta.db_table
            timing.rows_by_table[table] = timing.rows_by_table.get(table, 0) + cursor.rowcount
    timing.seconds = time.perf_counter() - started
    return timing


def copy_in_rolled_back(selections: Sequence[TableRows]) -> CopyTiming:
    """Times binary COPY FROM of the selected rows into their own tables, in a transaction that is
    rolled back. Precondition: outside any transaction (the rollback must be this function's own),
    and no row outside the selections refers to a selected row (they are deleted before the COPY).
    Raises RuntimeError when COPY wrote another number of rows than it read."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("the COPY floor needs a transaction of its own: call it outside atomic blocks")
    quote = connection.ops.quote_name
    timing = CopyTiming()
    spools = []
    try:
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor  # psycopg's own: Django's debug wrapper of copy() takes no parameters
            for selection in selections:
                table = quote(selection.table)
                columns = ", ".join(quote(column) for column in selection.columns)
                spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
                spools.append(spool)
                select = f"SELECT {columns} FROM {table} WHERE {selection.where}"
                with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)", selection.params) as copy:
                    for block in copy:
                        spool.write(block)
                timing.rows_by_table[selection.table] = cursor.rowcount
                timing.bytes += spool.tell()
            for selection in selections:
                cursor.execute(f"DELETE FROM {quote(selection.table)} WHERE {selection.where}", selection.params)
            # The deletes' own foreign-key checks, now, outside the measured span; then deferred again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

            started = time.perf_counter()
            written = {}
            for selection, spool in zip(selections, spools):
                columns = ", ".join(quote(column) for column in selection.columns)
                spool.seek(0)
                with cursor.copy(f"COPY {quote(selection.table)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    while block := spool.read(_BLOCK_BYTES):
                        copy.write(block)
                written[selection.table] = cursor.rowcount
            # The foreign-key checks a COMMIT would run (Django's constraints are deferred).
            checks_started = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            timing.seconds = time.perf_counter() - started
            timing.check_seconds = time.perf_counter() - checks_started

            if written != timing.rows_by_table:
                raise RuntimeError(f"COPY wrote {written}, not the rows it read {timing.rows_by_table}")
            timing.rows = sum(written.values())
            transaction.set_rollback(True)
    finally:
        for spool in spools:
            spool.close()
    return timing


def row_counts(selections: Sequence[TableRows]) -> dict[str, int]:
    """The number of rows each selection selects, and the total of each table (one query)."""
    quote = connection.ops.quote_name
    parts, params = [], []
    for selection in selections:
        parts.append(f"(SELECT count(*) FROM {quote(selection.table)} WHERE {selection.where})")
        params.extend(selection.params)
    tables = sorted({selection.table for selection in selections})
    parts.extend(f"(SELECT count(*) FROM {quote(table)})" for table in tables)
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        values = cursor.fetchone()
    names = [f"{selection.table} WHERE {selection.where}" for selection in selections] + tables
    return dict(zip(names, values))


def copy_in_floor(selections: Sequence[TableRows]) -> CopyTiming:
    """`copy_in_rolled_back`, checked: every table holds afterwards exactly the rows it held before."""
    before = row_counts(selections)
    timing = copy_in_rolled_back(selections)
    after = row_counts(selections)
    if after != before:
        raise RuntimeError(f"the COPY floor's rollback left the tables changed: {before} before, {after} after")
    return timing


class TableSnapshot:
    """Every table's highest primary key (its row count where the key is not an integer), to tell
    the rows a step writes afterwards. One query."""

    def __init__(self):
        self.models = _tables()
        self.marks = _marks(self.models)

    def new_rows(self) -> tuple[list[TableRows], list[str]]:
        """The rows written since the snapshot, a selection per table; and the tables that gained rows
        which cannot be told apart from the old ones (a non-integer key in a table that had rows)."""
        after = _marks(self.models)
        selections, unknown = [], []
        for table, model in self.models.items():
            before, now = self.marks[table], after[table]
            if now is None or now == before or (before is not None and now < before):
                continue
            pk = connection.ops.quote_name(model._meta.pk.column)
            if _integer_key(model):
                where, params = (f"{pk} > %s", (before,)) if before is not None else ("TRUE", ())
            elif not before:
                where, params = "TRUE", ()
            else:
                unknown.append(table)
                continue
            selections.append(TableRows.of_model(model, where, params))
        return selections, unknown


def _tables() -> dict[str, type]:
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in tables:
            continue
        tables[meta.db_table] = model
    return dict(sorted(tables.items()))


def _integer_key(model) -> bool:
    return model._meta.pk.db_type(connection) in _INTEGER_TYPES


def _marks(models: dict[str, type]) -> dict[str, int | None]:
    quote = connection.ops.quote_name
    parts = []
    for table, model in models.items():
        value = f"max({quote(model._meta.pk.column)})" if _integer_key(model) else "count(*)"
        parts.append(f"(SELECT {value} FROM {quote(table)})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}")
        return dict(zip(models, cursor.fetchone()))


def print_written_floor(snapshot: TableSnapshot | None, rows: int, seconds: float, *, what: str) -> None:
    """Print the COPY floor of the rows written since `snapshot` beside the step's own `seconds`
    (`rows` as the step counts them; `what` names the step, e.g. "the import")."""
    if snapshot is None:
        print("COPY floor: not measured (PostgreSQL only)")
        return
    selections, unknown = snapshot.new_rows()
    floor = copy_in_floor(selections)
    print(f"{'COPY floor':<22} {rows:>10} rows {floor.seconds:8.2f} s {rows / floor.seconds:8.0f} rows/s "
          f"(binary COPY FROM of the {floor.rows} rows {what} wrote, rolled back; {what} took "
          f"{seconds / floor.seconds:.1f}x the floor)")
    print(f"  foreign-key checks {floor.check_seconds:.2f} s of it; {floor.rows_by_table_text()}")
    if unknown:
        print(f"  not in the floor (new rows not told from old ones): {', '.join(unknown)}")
