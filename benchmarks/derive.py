"""Speed of deriving every patient, and of re-deriving one patient after one edit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry .venv/bin/python benchmarks/derive.py \\
        [--patients 10000] [--seed 7] [--follow-up long_follow_up|registry] [--batch-size 500]
        [--processes 1|2] [--profile]

Writes to the database of DATABASE_URL: when it holds fewer than --patients synthetic patients of
the seed and follow-up profile, the missing ones are added (registry/services/synthetic_cohort.py;
the default profile, long_follow_up, has the volume issue 3 specifies: for 10,000 patients about
36,000 lines and 2.2 million lesion measurements); those patients' stored results are replaced.
Refuses SQLite unless --allow-sqlite.

Prints: the full run's patients per second, total queries and peak memory (resident, and traced
Python allocations on a separate smaller run under tracemalloc, which slows Python about twofold);
then one lesion measurement edited (an ORM save and `patients_changed`, as a door does) and the
queries and milliseconds of re-deriving that patient in-process (the eager task run by the edit's
commit; counted from the end of that COMMIT to the end of the task, BEGIN and COMMIT included).
Targets: 10,000 patients in under 60 s; one patient in at most 15 queries and under 100 ms.
--processes N (2 or more) runs the full run as `derive --parallel N` does, through the fan-out's own
machinery (registry/services/derivation_runs.py): a derivation run of chunks of --batch-size patients,
taken by N worker processes as Celery workers take them; it prints the peak resident memory of the
largest worker (the queries of the workers are not counted).

After the full run, its COPY floor (benchmarks/copy_floor.py; PostgreSQL only): binary COPY TO of
the columns the derivation-input selector reads (its own queries, for the whole cohort at once),
plus binary COPY FROM of the result rows the run stored into the four result tables, rolled back;
then the full run's time divided by the floor (issue 14: within 5x). The floor runs on one
connection, also when --processes splits the full run.
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

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from registry.models import (  # noqa: E402
    AnalysisSettings, AssessmentDerivation, Biopsy, BiopsyDerivation, Lesion, LesionMeasurement, LineDerivation,
    LocalTherapy, Patient, PatientDerivation, TreatmentLine, TumorAssessment,
)
from registry.selectors import derivation_inputs  # noqa: E402
from registry.selectors.derivation_inputs import current_analysis_settings  # noqa: E402
from registry.services.derivation import DerivationSummary, patients_changed, patients_derive  # noqa: E402
from registry.services.synthetic_cohort import FOLLOW_UP_PROFILES  # noqa: E402
from benchmarks import copy_floor  # noqa: E402
from benchmarks.cohort import cohort_written  # noqa: E402
from benchmarks.query_counter import QueryCounter  # noqa: E402

DATA_CUTOFF = "2024-06-30"


def cohort_patient_ids(patients: int, seed: int, follow_up: str) -> list[int]:
    """The ids of the first `patients` synthetic patients of the seed and profile, written first when
    any is missing (only those: the generator is deterministic per patient number)."""
    prefix = cohort_written(patients, seed, follow_up, exact=False)
    cohort = Patient.objects.filter(record_id__startswith=prefix)
    first = cohort.order_by("record_id")[:patients]
    ids = list(first.values_list("id", flat=True))
    # Counted through a subquery, not a list of 100,000 ids sent back: the workers of --processes are
    # forks of this process, and whatever it once held stays resident in them.
    lines = TreatmentLine.objects.filter(patient_id__in=first.values("id")).count()
    measurements = LesionMeasurement.objects.filter(patient_id__in=first.values("id")).count()
    print(f"cohort {prefix}...: {len(ids)} patients, {lines} lines, {measurements} lesion measurements")
    return ids


def derive_range(patient_ids: list[int], batch_size: int) -> tuple[DerivationSummary, int]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        summary = patients_derive(patient_ids=patient_ids, batch_size=batch_size)
    return summary, counter.count


def full_run(patient_ids: list[int], batch_size: int, processes: int) -> float:
    started = time.perf_counter()
    if processes == 1:
        summary, queries = derive_range(patient_ids, batch_size)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        counted = f"{queries} queries"
        how = f"1 process, batches of {batch_size}"
    else:
        from registry.models import DerivationRun
        from registry.services.derivation_runs import (
            derivation_run_inline, derivation_run_start, derivation_run_summary,
        )

        run = derivation_run_start(patient_ids=patient_ids, trigger=DerivationRun.Trigger.COMMAND,
                                   reason="benchmarks/derive.py", chunk_patients=batch_size)
        failed = derivation_run_inline(run=run, processes=processes)
        if failed:
            sys.exit(f"{len(failed)} chunks failed: see the admin's derivation run {run.pk}")
        run.refresh_from_db()
        summary = derivation_run_summary(run=run)
        # The largest of the workers (the pool's processes, ended by now): each is a fork of this process.
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        counted = "queries of the workers not counted"
        how = f"derivation run {run.pk}: {run.total_chunks} chunks of {batch_size} patients, {processes} worker processes"
    seconds = time.perf_counter() - started
    print(f"full run, {how}:")
    print(f"  patients {summary.patients}, lines {summary.lines}, assessments {summary.assessments}, "
          f"biopsies {summary.biopsies}, flags {summary.flags}")
    print(f"  {seconds:.1f} s, {summary.patients / seconds:.0f} patients/s, {counted}, "
          f"peak resident memory {peak_kib / 1024:.0f} MiB (per process)")
    return seconds


def input_querysets(patient_ids: list[int]) -> list:
    """The derivation-input selector's six queries for all the patients: its own field lists and
    query helper (private names, so that the floor reads exactly the columns the selector reads),
    without the patient lock (a floor takes none)."""
    selector = derivation_inputs
    return [
        Patient.objects.filter(id__in=patient_ids).order_by("id").values_list(*selector._PATIENT_FIELDS),
        selector._rows(TreatmentLine, patient_ids, selector._LINE_FIELDS),
        selector._rows(LocalTherapy, patient_ids, selector._LOCAL_THERAPY_FIELDS),
        selector._rows(TumorAssessment, patient_ids, selector._ASSESSMENT_FIELDS),
        selector._rows(Lesion, patient_ids, selector._LESION_FIELDS),
        selector._rows(Biopsy, patient_ids, selector._BIOPSY_FIELDS),
    ]


def result_rows(patient_ids: list[int]) -> list[copy_floor.TableRows]:
    """The stored results of the patients, every column, in the four result tables."""
    id_type = Patient._meta.pk.db_type(connection)
    where = f"patient_id = ANY(%s::{id_type}[])"
    return [copy_floor.TableRows.of_model(model, where, (patient_ids,))
            for model in (PatientDerivation, LineDerivation, AssessmentDerivation, BiopsyDerivation)]


def floor_run(patient_ids: list[int], seconds: float) -> None:
    if not copy_floor.floor_measurable():
        print("COPY floor: not measured (PostgreSQL only)")
        return
    inputs = copy_floor.copy_out(input_querysets(patient_ids))
    results = copy_floor.copy_in_floor(result_rows(patient_ids))
    floor = inputs.seconds + results.seconds
    print("COPY floor of the same rows (binary COPY, one connection):")
    print(f"  inputs out (the selector's 6 queries, COPY TO): {inputs.rows} rows, {inputs.bytes / 2**20:.1f} MiB, "
          f"{inputs.seconds:.2f} s")
    print(f"  results in (COPY FROM, foreign keys checked, rolled back): {results.rows} rows, "
          f"{results.bytes / 2**20:.1f} MiB, {results.seconds:.2f} s (foreign-key checks {results.check_seconds:.2f} s; "
          f"{results.rows_by_table_text()})")
    print(f"  floor {floor:.2f} s; the full run took {seconds:.1f} s, {seconds / floor:.1f}x the floor")


def traced_peak(patient_ids: list[int], batch_size: int) -> None:
    sample = patient_ids[: 2 * batch_size]
    tracemalloc.start()
    patients_derive(patient_ids=sample, batch_size=batch_size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  traced Python allocations, {len(sample)} patients in batches of {batch_size}: "
          f"peak {peak / 2**20:.0f} MiB (bounded by the batch, not the cohort)")


def one_edit(patient_ids: list[int], *, show_queries: bool) -> None:
    measurement = LesionMeasurement.objects.filter(lm_status=1, patient_id__in=patient_ids[:100]).order_by("id").first()
    if measurement is None:
        print("no measured lesion to edit")
        return
    patient_id = measurement.patient_id
    capture = CaptureQueriesContext(connection)
    timing = {}

    def start() -> None:  # the first callback of the edit's commit: the COMMIT itself is done
        capture.__enter__()
        timing["started"] = time.perf_counter()

    def stop() -> None:  # the last one, after the derivation that patients_changed queued
        timing["seconds"] = time.perf_counter() - timing["started"]
        capture.__exit__(None, None, None)

    with transaction.atomic():
        measurement.lm_mm = measurement.lm_mm + 1
        measurement._change_reason = "benchmark"
        measurement.save(update_fields=["lm_mm", "updated_at"])
        transaction.on_commit(start)
        patients_changed([patient_id])
        transaction.on_commit(stop)
    milliseconds = timing["seconds"] * 1000
    queries = [query["sql"] for query in capture.captured_queries]
    print(f"one patient re-derived after editing one lesion measurement (record "
          f"{Patient.objects.get(pk=patient_id).record_id}):")
    print(f"  {len(queries)} queries, {milliseconds:.1f} ms (the queued task, in-process, after the edit's commit)")
    if show_queries:
        for sql in queries:
            print(f"    {sql[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--follow-up", choices=FOLLOW_UP_PROFILES, default="long_follow_up")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2, 3, 4),
                        help="2 or more: a derivation run of chunks of --batch-size in that many worker processes")
    parser.add_argument("--profile", action="store_true", help="profile the first 1,000 patients with cProfile")
    parser.add_argument("--allow-sqlite", action="store_true")
    arguments = parser.parse_args()
    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        parser.error("this benchmark is for PostgreSQL (set DATABASE_URL); --allow-sqlite to run it anyway")

    patient_ids = cohort_patient_ids(arguments.patients, arguments.seed, arguments.follow_up)
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum keeps them: right after a bulk load the planner
        # guesses, and joins the lesions to all measurements with a sequential scan (150 ms for one
        # patient instead of 1 ms).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    AnalysisSettings.objects.get_or_create(pk=1)
    AnalysisSettings.objects.filter(pk=1).update(data_cutoff=DATA_CUTOFF)
    current_analysis_settings()

    if arguments.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(patients_derive, patient_ids=patient_ids[:1000], batch_size=arguments.batch_size)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return

    seconds = full_run(patient_ids, arguments.batch_size, arguments.processes)
    floor_run(patient_ids, seconds)
    traced_peak(patient_ids, arguments.batch_size)
    for number in range(3):  # the first also pays for setting up the task machinery
        one_edit(patient_ids, show_queries=number == 0)


if __name__ == "__main__":
    main()
