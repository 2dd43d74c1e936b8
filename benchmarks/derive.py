"""Speed of deriving every patient, and of re-deriving one patient after one edit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry .venv/bin/python benchmarks/derive.py \\
        [--patients 10000] [--seed 7] [--batch-size 500] [--processes 1|2] [--profile]

Writes to the database of DATABASE_URL: when it holds fewer than --patients patients, synthetic ones
are added (registry/services/synthetic_cohort.py); every patient's stored results are replaced.
Refuses SQLite unless --allow-sqlite.

Prints: the full run's patients per second, total queries and peak memory (resident, and traced
Python allocations on a separate smaller run under tracemalloc, which slows Python about twofold);
then one lesion measurement edited (an ORM save and `patients_changed`, as a door does) and the
queries and milliseconds of re-deriving that patient in-process (eager task after the commit).
Targets: 10,000 patients in under 60 s; one patient in at most 15 queries and under 100 ms.
--processes 2 splits the full run into two processes with disjoint patient id ranges.
"""
import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of every query: that would be measured as the derivation's.
os.environ["DEBUG"] = "false"
# No broker: the task queued after the edit's commit runs here, in-process, and is measured.
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from registry.models import AnalysisSettings, LesionMeasurement, Patient  # noqa: E402
from registry.selectors.derivation_inputs import all_patient_ids, current_analysis_settings  # noqa: E402
from registry.services.derivation import DerivationSummary, patients_changed, patients_derive  # noqa: E402

DATA_CUTOFF = "2024-06-30"


class QueryCounter:
    """Counts the statements run on the default connection, without keeping their text."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def ensure_patients(patients: int, seed: int) -> None:
    existing = Patient.objects.count()
    if existing >= patients:
        print(f"{existing} patients in the database")
        return
    from registry.services.synthetic_cohort import synthetic_cohort_create

    started = time.perf_counter()
    print(f"{existing} patients in the database; adding {patients - existing} synthetic ones ...", flush=True)
    # A seed of its own per top-up, so that record IDs never collide with an earlier run's.
    summary = synthetic_cohort_create(patients=patients - existing, seed=seed + existing, site=None, batch_size=500)
    print(f"  {summary.total_rows} rows in {time.perf_counter() - started:.1f} s")


def derive_range(patient_ids: list[int], batch_size: int) -> tuple[DerivationSummary, int]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        summary = patients_derive(patient_ids=patient_ids, batch_size=batch_size)
    return summary, counter.count


def _derive_in_child(arguments) -> tuple[DerivationSummary, int, int]:
    patient_ids, batch_size = arguments
    connections.close_all()  # a connection of its own, never the parent's socket
    summary, queries = derive_range(patient_ids, batch_size)
    return summary, queries, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def full_run(patient_ids: list[int], batch_size: int, processes: int) -> None:
    started = time.perf_counter()
    if processes == 1:
        summary, queries = derive_range(patient_ids, batch_size)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    else:
        import multiprocessing

        size = -(-len(patient_ids) // processes)
        ranges = [(patient_ids[start:start + size], batch_size) for start in range(0, len(patient_ids), size)]
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results = pool.map(_derive_in_child, ranges)
        summary = DerivationSummary()
        for part, _, _ in results:
            summary += part
        queries = sum(count for _, count, _ in results)
        peak_kib = max(peak for _, _, peak in results)
    seconds = time.perf_counter() - started
    print(f"full run, {processes} process(es), batches of {batch_size}:")
    print(f"  patients {summary.patients}, lines {summary.lines}, assessments {summary.assessments}, "
          f"biopsies {summary.biopsies}, flags {summary.flags}")
    print(f"  {seconds:.1f} s, {summary.patients / seconds:.0f} patients/s, {queries} queries, "
          f"peak resident memory {peak_kib / 1024:.0f} MiB (per process)")


def traced_peak(patient_ids: list[int], batch_size: int) -> None:
    sample = patient_ids[: 2 * batch_size]
    tracemalloc.start()
    patients_derive(patient_ids=sample, batch_size=batch_size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  traced Python allocations, {len(sample)} patients in batches of {batch_size}: "
          f"peak {peak / 2**20:.0f} MiB (bounded by the batch, not the cohort)")


def one_edit(*, show_queries: bool) -> None:
    measurement = LesionMeasurement.objects.filter(lm_status=1).order_by("id").first()
    if measurement is None:
        print("no measured lesion to edit")
        return
    patient_id = measurement.patient_id
    with transaction.atomic():
        measurement.lm_mm = measurement.lm_mm + 1
        measurement._change_reason = "benchmark"
        measurement.save(update_fields=["lm_mm", "updated_at"])
        patients_changed([patient_id])
        # Timed from here: what the commit runs (the eager task) plus the UPDATE above is not counted twice.
        capture = CaptureQueriesContext(connection)
        capture.__enter__()
        started = time.perf_counter()
    milliseconds = (time.perf_counter() - started) * 1000
    capture.__exit__(None, None, None)
    queries = [query["sql"] for query in capture.captured_queries]
    print(f"one patient re-derived after editing one lesion measurement (record "
          f"{Patient.objects.get(pk=patient_id).record_id}):")
    print(f"  {len(queries)} queries, {milliseconds:.1f} ms (commit + queued task, in-process)")
    if show_queries:
        for sql in queries:
            print(f"    {sql[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--profile", action="store_true", help="profile the first 1,000 patients with cProfile")
    parser.add_argument("--allow-sqlite", action="store_true")
    arguments = parser.parse_args()
    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        parser.error("this benchmark is for PostgreSQL (set DATABASE_URL); --allow-sqlite to run it anyway")

    ensure_patients(arguments.patients, arguments.seed)
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum keeps them: right after a bulk load the planner
        # guesses, and joins the lesions to all measurements with a sequential scan (150 ms for one
        # patient instead of 1 ms).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    AnalysisSettings.objects.get_or_create(pk=1)
    AnalysisSettings.objects.filter(pk=1).update(data_cutoff=DATA_CUTOFF)
    current_analysis_settings()
    patient_ids = all_patient_ids()[: arguments.patients]

    if arguments.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(patients_derive, patient_ids=patient_ids[:1000], batch_size=arguments.batch_size)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return

    full_run(patient_ids, arguments.batch_size, arguments.processes)
    traced_peak(patient_ids, arguments.batch_size)
    for number in range(3):  # the first also pays for setting up the task machinery
        one_edit(show_queries=number == 0)


if __name__ == "__main__":
    main()
