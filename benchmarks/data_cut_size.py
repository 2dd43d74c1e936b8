"""Size of frozen data cuts (issue 12 §6): a first cut of N synthetic patients, then a second cut
after 1 % of the records changed. Target: the second cut under 10 % of the first.

    .venv/bin/python benchmarks/data_cut_size.py [--patients 10000] [--changed-percent 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reg_cuts_bench .venv/bin/python benchmarks/data_cut_size.py

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is flushed!).
Writes the synthetic cohort (registry/services/synthetic_cohort.py), derives it, freezes cut 1,
changes the smoking history of every 100th patient through the services (the change marks their
results stale, and they are derived again), and freezes cut 2.

A cut's size is printed two ways:
- stored bytes: the compressed blobs it stored first (`new_blob_bytes`) plus its index rows' column
  bytes (record ID, site code, four integer keys);
- database bytes: how much the data cut tables (with their indexes) grew, as the database counts
  it (PostgreSQL: pg_total_relation_size; SQLite: the dbstat table when compiled in), pages included.
"""
import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "false"
_temporary = None
if not os.environ.get("DATABASE_URL"):
    _temporary = tempfile.TemporaryDirectory(prefix="registry-benchmark-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_temporary.name}/benchmark.sqlite3"

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from registry.models import AnalysisSettings, DataCut, DataCutBlob, DataCutEntry, Patient  # noqa: E402
from registry.models.choices import Smoking  # noqa: E402
from registry.services.data_cuts import data_cut_freeze  # noqa: E402
from registry.services.derivation import patients_derive  # noqa: E402
from registry.services.instances import instance_save  # noqa: E402
from registry.services.synthetic_cohort import synthetic_cohort_create  # noqa: E402

CUTOFF = date(2024, 6, 30)
INTEGER_KEY_BYTES = 8  # id, cut, site, two blob keys: 64-bit on PostgreSQL, at most 8 bytes on SQLite
TABLES = [model._meta.db_table for model in (DataCut, DataCutBlob, DataCutEntry)]


def _database_bytes() -> int | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            total = 0
            for table in TABLES:
                cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
                total += cursor.fetchone()[0]
            return total
        try:
            cursor.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name IN (%s))"
                % ",".join("%s" for _ in TABLES), TABLES)
        except Exception:  # noqa: BLE001 - dbstat is optional in SQLite builds
            return None
        return cursor.fetchone()[0] or 0


def _index_bytes(cut: DataCut) -> int:
    """The column bytes of the cut's index rows (its record IDs and site codes, five integer keys)."""
    total = 0
    for record_id, site_code in DataCutEntry.objects.filter(cut=cut).values_list("record_id", "site_code"):
        total += len(record_id.encode()) + len(site_code.encode()) + 5 * INTEGER_KEY_BYTES
    return total


def _freeze(name: str) -> tuple[DataCut, int, float]:
    before = _database_bytes()
    started = time.perf_counter()
    cut = data_cut_freeze(name=name, cutoff=CUTOFF)
    seconds = time.perf_counter() - started
    after = _database_bytes()
    return cut, (None if before is None else after - before), seconds


def _report(cut: DataCut, database_bytes: int | None, seconds: float) -> int:
    stored = cut.new_blob_bytes + _index_bytes(cut)
    database = "n/a" if database_bytes is None else f"{database_bytes / 1_048_576:.2f} MiB"
    print(f"{cut.name}: {cut.patients} records, frozen in {seconds:.1f} s; stored {stored / 1_048_576:.2f} MiB "
          f"(new blobs {cut.new_blob_bytes / 1_048_576:.2f} MiB + index {_index_bytes(cut) / 1_048_576:.2f} MiB); "
          f"database grew {database}")
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"database: {connection.vendor}")
    started = time.perf_counter()
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": CUTOFF})
    synthetic_cohort_create(patients=options.patients, seed=7)
    patient_ids = list(Patient.objects.order_by("record_id").values_list("id", flat=True))
    patients_derive(patient_ids=patient_ids)
    print(f"{options.patients} synthetic patients written and derived in {time.perf_counter() - started:.0f} s")

    first, first_database, first_seconds = _freeze("cut-1")
    first_stored = _report(first, first_database, first_seconds)

    every = round(100 / options.changed_percent)
    changed = patient_ids[::every]
    codes = [value for value, _ in Smoking.choices]
    for patient in Patient.objects.filter(id__in=changed):
        following = (codes.index(patient.smoking) + 1) % len(codes) if patient.smoking in codes else 0
        patient.smoking = codes[following]
        instance_save(instance=patient, user=None, door="benchmark")
    patients_derive(patient_ids=changed)
    print(f"changed the smoking history of {len(changed)} patients ({len(changed) / len(patient_ids):.1%}) "
          "and derived them again")

    second, second_database, second_seconds = _freeze("cut-2")
    second_stored = _report(second, second_database, second_seconds)
    print(f"second cut / first cut: stored {second_stored / first_stored:.1%}" + (
        "" if first_database is None else f", database {second_database / first_database:.1%}"))


if __name__ == "__main__":
    main()
