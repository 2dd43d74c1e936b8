"""Speed and memory of exporting the `lines` and `endpoints` datasets for every patient in the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry .venv/bin/python benchmarks/export_lines.py
    .venv/bin/python benchmarks/export_lines.py --synthesize 10000

Reads the database of DATABASE_URL as it is (nothing is written to it). Without DATABASE_URL it
needs --synthesize N: a temporary SQLite database is filled with N synthetic patients
(registry/services/synthetic_cohort.py) and placeholder stored derivations for every patient and
line (plausible values, not derived: the export only reads what is stored).

Prints per dataset rows, seconds, rows per second and queries, then, on a separate run under
tracemalloc (tracing slows Python about twofold), the peak of traced allocations; and at the end
the peak resident memory of the process. Target: 10,000 patients' lines in under 10 s.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of every query: that would be measured as the export's.
os.environ["DEBUG"] = "false"
_temporary = None
if not os.environ.get("DATABASE_URL"):
    _temporary = tempfile.TemporaryDirectory(prefix="registry-benchmark-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_temporary.name}/benchmark.sqlite3"

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from registry.models import LineDerivation, Patient, PatientDerivation, TreatmentLine  # noqa: E402
from registry.services.datasets import dataset_export  # noqa: E402

DAYS_PER_MONTH = Decimal("30.4375")
MONTHS = Decimal("0.000001")
PLACEHOLDER_CUTOFF = datetime(2024, 6, 30, tzinfo=UTC).date()


def synthesize(patients: int) -> None:
    """N synthetic patients and placeholder derivations: every line progressing 200 days in."""
    from registry.services.synthetic_cohort import synthetic_cohort_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    synthetic_cohort_create(patients=patients, seed=1)
    derived_at = datetime(2024, 7, 1, tzinfo=UTC)
    PatientDerivation.objects.bulk_create(
        PatientDerivation(patient_id=patient_id, rules_version=1, settings_snapshot={"data_cutoff": "2024-06-30"},
                          data_cutoff=PLACEHOLDER_CUTOFF, derived_at=derived_at, cohort=1 + patient_id % 2,
                          tki_sequence="alectinib>lorlatinib")
        for patient_id in Patient.objects.values_list("id", flat=True).iterator()
    )
    batch = []
    for line_id, patient_id, line_no, line_start in TreatmentLine.objects.values_list(
        "id", "patient_id", "line_no", "line_start"
    ).iterator():
        os_days = (PLACEHOLDER_CUTOFF - line_start).days
        batch.append(LineDerivation(
            patient_id=patient_id, line_id=line_id, line_no=line_no, tki_generation=2, age_at_start=60,
            histology_at_start=1, baseline_date=line_start, subsequent_to_index=line_no > 1, best_response="PR",
            pd_date=line_start, extent="oligo", n_progressing_lesions=2, cns_progression=True,
            cns_only_progression=False, symptomatic_progression=False, symptomatic_cns_progression=False,
            local_therapy_for_pd=False, continued_beyond_pd=False, pfs_date=line_start, pfs_days=200,
            pfs_months=(Decimal(200) / DAYS_PER_MONTH).quantize(MONTHS), pfs_event=True,
            pfs_event_type="progression", os_date=PLACEHOLDER_CUTOFF, os_days=os_days,
            os_months=(Decimal(os_days) / DAYS_PER_MONTH).quantize(MONTHS), os_event=False,
            os_censor_reason="cutoff",
        ))
        if len(batch) == 2000:
            LineDerivation.objects.bulk_create(batch)
            batch = []
    LineDerivation.objects.bulk_create(batch)
    print(f"synthesized {patients} patients in {time.perf_counter() - started:.0f} s")


def run(name: str, directory: Path, *, traced: bool) -> None:
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        rows = dataset_export(name=name, output=directory / f"{name}.csv")
    seconds = time.perf_counter() - started
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{name:<10} {rows:>8} rows  peak {peak / 1_048_576:6.1f} MiB (tracemalloc)")
    else:
        print(f"{name:<10} {rows:>8} rows {seconds:7.2f} s {rows / seconds:9.0f} rows/s {queries[0]:5} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthesize", type=int, metavar="N",
                        help="fill a temporary SQLite database with N synthetic patients (only without DATABASE_URL)")
    options = parser.parse_args()
    if options.synthesize:
        if _temporary is None:
            raise SystemExit("--synthesize writes patients: it only runs on a temporary database (unset DATABASE_URL)")
        synthesize(options.synthesize)
    elif _temporary is not None:
        raise SystemExit("Set DATABASE_URL to the database to export, or give --synthesize N")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}: "
          f"{Patient.objects.count()} patients, {TreatmentLine.objects.count()} lines, "
          f"{LineDerivation.objects.count()} line derivations")
    with tempfile.TemporaryDirectory(prefix="registry-benchmark-files-") as directory:
        for name in ("lines", "endpoints"):
            run(name, Path(directory), traced=False)
        for name in ("lines", "endpoints"):
            run(name, Path(directory), traced=True)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"peak resident memory of the process: {peak_rss:.0f} MiB")


if __name__ == "__main__":
    main()
