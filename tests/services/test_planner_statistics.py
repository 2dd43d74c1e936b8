"""registry/services/bulk_statements.py PlannerStatistics: a long import refreshes PostgreSQL's
statistics of the tables it grows, inside its transaction, and never waits for another writer's
ANALYZE to do so (PostgreSQL only: SQLite has nothing to refresh)."""
import io
import time

import psycopg
import pytest
from django.db import connection

from registry.services import bulk_statements
from registry.services.records import records_import
from tests.records.flat_files import csv_text, record_row

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's; SQLite's planner uses its indexes without them")


def _patients_csv(count: int) -> io.BytesIO:
    return io.BytesIO(csv_text([record_row(f"PS-{number}", sex="1", adv_dx_date="2020-01-01")
                                for number in range(count)]).encode())


def _patient_rows_estimated() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_patient'")
        return cursor.fetchone()[0]


def test_statistics_are_taken_once_the_import_has_written_first_at_rows_and_count_its_own_rows(
    site_a, monkeypatch,
):
    # FIRST_AT 3: the 5 record rows are written as one chunk (5 >= 3), so the patient table is
    # analyzed once, after the chunk, and ANALYZE counts the transaction's own 5 uncommitted rows:
    # the table was empty, so the estimate becomes exactly 5.
    monkeypatch.setattr(bulk_statements.PlannerStatistics, "FIRST_AT", 3)
    before = _patient_rows_estimated()

    result = records_import(source=_patients_csv(5), file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert before != 5
    assert _patient_rows_estimated() == 5


def test_a_small_import_takes_no_statistics(site_a):
    # 5 rows, below the default FIRST_AT of 5,000: the estimate stays as it was.
    before = _patient_rows_estimated()

    records_import(source=_patients_csv(5), file_format="csv", site=site_a, user=None)

    assert _patient_rows_estimated() == before


def test_an_import_does_not_wait_for_another_transactions_analyze_lock(site_a, monkeypatch):
    # Another session holds the patient table's SHARE UPDATE EXCLUSIVE lock (as an ANALYZE in an
    # open transaction does): the import goes on at once without statistics, and writes everything.
    monkeypatch.setattr(bulk_statements.PlannerStatistics, "FIRST_AT", 3)
    before = _patient_rows_estimated()
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"] or None,
                         port=settings["PORT"] or None, password=settings["PASSWORD"] or None) as other:
        other.execute("LOCK TABLE registry_patient IN SHARE UPDATE EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            # A wait would end after 20 s (and the import would then still succeed, refusing no
            # row): the time taken tells a wait from none, with ample margin.
            cursor.execute("SET LOCAL lock_timeout = '20s'")
        started = time.monotonic()

        result = records_import(source=_patients_csv(5), file_format="csv", site=site_a, user=None)

        waited = time.monotonic() - started

        other.rollback()
    assert waited < 10
    assert result.problems == []
    assert sorted(result.written_records) == [f"PS-{number}" for number in range(5)]
    assert _patient_rows_estimated() == before
