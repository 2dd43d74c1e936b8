"""Import speed of a REDCap flat CSV of synthetic patients, against its COPY floor (issue 14).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench \\
        .venv/bin/python benchmarks/import_records.py --patients 10000 [--files DIR] [--profile N] [--memory]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is flushed!).

The file: N patients of the synthetic cohort's `registry` profile (registry/services/synthetic_cohort.py)
are written into the database, exported with the registry's own flat exporter (records_export), and
the database is flushed; the file is then imported as N new patients. --files DIR keeps the files
there and reuses one made before for the same N (generating 10,000 patients takes minutes).

The import is timed up to its commit, the derivation EXCLUDED: the task its commit queues
(derive_patients_task) is caught instead of run, and run afterwards on its own line. Printed:

- `import`: rows, seconds, rows per second, queries; then, of those seconds, the share spent in the
  bulk writes (create_with_history / update_with_history, registry/services/bulk_statements.py),
  i.e. what a faster write path (COPY) can take away at most, and the rest (reading, checking).
- `COPY floor` (PostgreSQL only, benchmarks/copy_floor.py): binary COPY FROM of the rows the import
  itself wrote (records, audit trail, record versions; no derivation results, which do not exist yet),
  in a transaction that is rolled back; as the file's rows per second, and the import's time over it.
- `derivation`: the queued derivation of the imported patients, run afterwards, timed on its own.
- `reimport`: the same file again (every row unchanged, nothing written).
- `export`: the flat export of what was imported, which must equal the file byte for byte.

--profile N prints the N most expensive functions of the import (cProfile, own time and cumulative;
profiling slows Python code, so the timed run is a separate one). --memory adds a run under
tracemalloc at N/4 and N patients: the peaks should be about equal, as the import holds one chunk of
rows at a time.
"""
import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of the last 9,000 queries: that would be measured as the import's.
os.environ["DEBUG"] = "false"
_temporary = None
if not os.environ.get("DATABASE_URL"):
    _temporary = tempfile.TemporaryDirectory(prefix="registry-benchmark-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_temporary.name}/benchmark.sqlite3"

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from registry import tasks  # noqa: E402
from registry.models import Patient, Site  # noqa: E402
from registry.records import flat_import  # noqa: E402
from registry.services import synthetic_cohort  # noqa: E402
from registry.services.records import records_export, records_import  # noqa: E402
from benchmarks import copy_floor  # noqa: E402
from benchmarks.query_counter import QueryCounter  # noqa: E402

SEED = 1
FOLLOW_UP = "registry"


def make_file(path: Path, patients: int) -> None:
    """The flat CSV of `patients` synthetic patients, as the registry exports them; the database is
    flushed before and after."""
    call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    synthetic_cohort.synthetic_cohort_create(patients=patients, seed=SEED, follow_up=FOLLOW_UP)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as output:
        records_export(output=output)
    partial.rename(path)  # a file interrupted half-written is never reused
    print(f"(generated {path.name} in {time.perf_counter() - started:.0f} s)")
    call_command("flush", interactive=False, verbosity=0)


def file_for(directory: Path, patients: int) -> tuple[Path, int]:
    path = directory / f"records-{FOLLOW_UP}-seed{SEED}-{patients}.csv"
    if not path.exists():
        make_file(path, patients)
    with path.open(encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1  # the synthetic cohort's texts hold no line breaks
    return path, rows


class WriteTimer:
    """Wraps the bulk writes the import calls (flat_import's names of them) and adds up their time."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
        return timed

    @contextmanager
    def installed(self):
        with mock.patch.object(flat_import, "create_with_history", self.wrap(flat_import.create_with_history)), \
                mock.patch.object(flat_import, "update_with_history", self.wrap(flat_import.update_with_history)):
            yield


@contextmanager
def derivation_caught():
    """The derivation task queued by the import's commit, caught instead of run: yields the list the
    patient ids it was queued with are added to."""
    queued: list[int] = []
    with mock.patch.object(tasks.derive_patients_task, "delay", lambda patient_ids: queued.extend(patient_ids)):
        yield queued


def import_file(source: Path, site: Site):
    result = records_import(source=source, file_format="csv", site=site, user=None)
    if result.problems:
        raise SystemExit(f"the benchmark file has problems: {result.problems[:5]}")
    return result


def run(source: Path, rows: int, patients: int, *, profile: int, profile_out: Path | None) -> None:
    call_command("flush", interactive=False, verbosity=0)
    site = Site.objects.create(code="bench", name="Benchmark hospital")
    print(f"-- {patients} patients of the '{FOLLOW_UP}' profile, {rows} rows, "
          f"{source.stat().st_size / 1_048_576:.1f} MiB file; load {_load()}")
    snapshot = copy_floor.TableSnapshot() if copy_floor.floor_measurable() else None
    counter, writes = QueryCounter(), WriteTimer()
    with derivation_caught() as queued, writes.installed(), connection.execute_wrapper(counter):
        started, cpu_started = time.perf_counter(), time.process_time()
        import_file(source, site)  # its own transaction: committed on return, the derivation queued
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{'import':<22} {rows:>10} rows {seconds:8.2f} s {rows / seconds:8.0f} rows/s {counter.count:6} queries "
          "(derivation excluded)")
    print(f"  bulk writes {writes.seconds:.2f} s ({writes.seconds / seconds:.0%}, {writes.calls} calls); "
          f"reading and checking {seconds - writes.seconds:.2f} s; this process's CPU {cpu_seconds:.2f} s; "
          f"load {_load()}")
    copy_floor.print_written_floor(snapshot, rows, seconds, what="the import")
    if len(queued) != patients:
        raise SystemExit(f"the import queued the derivation of {len(queued)} patients, not {patients}")

    with measured("derivation", patients, unit="patients"):
        tasks.derive_patients_task(queued)
    with measured("reimport", rows), derivation_caught():
        again = import_file(source, site)
    assert sum(again.created.values()) + sum(again.updated.values()) == 0, "the same file again changed records"
    exported = source.with_name("export.csv")
    with measured("export", rows), exported.open("w", newline="", encoding="utf-8") as output:
        records_export(output=output)
    assert Patient.objects.count() == patients
    if exported.read_bytes() != source.read_bytes():
        raise SystemExit("the export differs from the imported file")
    exported.unlink()

    if profile:
        call_command("flush", interactive=False, verbosity=0)
        site = Site.objects.create(code="bench", name="Benchmark hospital")
        profiler = cProfile.Profile()
        with derivation_caught():
            profiler.runcall(import_file, source, site)
        stats = pstats.Stats(profiler)
        if profile_out is not None:
            stats.dump_stats(profile_out)
        for order in ("tottime", "cumulative"):
            print(f"-- cProfile of the import, by {order} (profiling slows Python code; the times are relative)")
            stats.sort_stats(order).print_stats(profile)


def run_traced(source: Path, rows: int) -> None:
    call_command("flush", interactive=False, verbosity=0)
    site = Site.objects.create(code="bench", name="Benchmark hospital")
    tracemalloc.start()
    with derivation_caught():
        import_file(source, site)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'import (traced)':<22} {rows:>10} rows peak {peak / 1_048_576:6.1f} MiB (tracemalloc)")


@contextmanager
def measured(label: str, count: int, *, unit: str = "rows"):
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        yield
    seconds = time.perf_counter() - started
    print(f"{label:<22} {count:>10} {unit} {seconds:8.2f} s {count / seconds:8.0f} {unit}/s {counter.count:6} queries")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000, help="patients of the file (default 2000)")
    parser.add_argument("--files", type=Path, help="keep the generated files here and reuse them")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print the N most expensive functions of the import (cProfile)")
    parser.add_argument("--profile-out", type=Path, metavar="FILE", help="with --profile: also dump the stats here")
    parser.add_argument("--memory", action="store_true",
                        help="also measure the tracemalloc peak at N/4 and N patients")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    with tempfile.TemporaryDirectory(prefix="registry-benchmark-files-") as temporary:
        directory = options.files or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        source, rows = file_for(directory, options.patients)
        run(source, rows, options.patients, profile=options.profile, profile_out=options.profile_out)
        if options.memory:
            for patients in (max(1, options.patients // 4), options.patients):
                run_traced(*file_for(directory, patients))


if __name__ == "__main__":
    main()
