"""Import and export speed and memory of REDCap flat records, for two file sizes.

    .venv/bin/python benchmarks/import_records.py --patients 2000

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is flushed!).
Generates a flat CSV of N/4 and then N invented patients (22 rows each), imports it, exports it,
and prints rows, seconds, rows per second, queries and the tracemalloc peak of each step. The peak
should stay about the same for both sizes: the import holds one chunk of rows at a time.

On PostgreSQL the import is set against its COPY floor (benchmarks/copy_floor.py): binary COPY FROM
of every row the import wrote (records, audit trail, versions, and the results of the derivation
its commit ran) back into the same tables, in a transaction that is rolled back. The "copy" line
gives the floor as the file's rows per second, and the import's time divided by the floor.
"""
import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

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

from registry.models import Patient, Site  # noqa: E402
from registry.records.instruments import flat_columns  # noqa: E402
from registry.services.records import records_export, records_import  # noqa: E402
from benchmarks import copy_floor  # noqa: E402


def _patient_rows(number: int) -> list[dict[str, str]]:
    record_id = f"BENCH-{number:06d}"
    row = {"record_id": record_id}
    # REDCap exports every checkbox option as 1 or 0, never blank.
    unticked = lambda prefix, codes: {f"{prefix}___{code}": "0" for code in codes}  # noqa: E731
    rows = [{**row, "mrn": f"MRN-{number}", "birth_date": "1960-05-01", "sex": str(1 + number % 2), "smoking": "0",
             "histology": "1", **unticked("alk_method", range(2, 6)), "alk_method___1": "1",
             "adv_dx_date": "2020-01-01", "stage_dx": "4",
             "enrollment_complete": "2", "last_alive_date": "2023-01-01", "vital": "1", "vital_status_complete": "2"}]
    repeat = lambda instrument, instance, **values: {  # noqa: E731 - a local shorthand
        **row, "redcap_repeat_instrument": instrument, "redcap_repeat_instance": str(instance), **values,
    }
    rows.append(repeat("treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="2020-01-10",
                       line_end="2021-06-01", line_end_reason="1", treatment_line_complete="2"))
    rows.append(repeat("treatment_line", 2, line_no="2", line_type="1", line_drug="7", line_start="2021-06-10",
                       treatment_line_complete="2"))
    rows.append(repeat("local_therapy", 1, lt_date="2021-03-01", lt_type="1", lt_site="3", local_therapy_complete="2"))
    dates = ["2020-01-05", "2020-04-05", "2020-07-05", "2021-05-20"]
    for instance, ta_date in enumerate(dates, start=1):
        rows.append(repeat("tumor_assessment", instance, ta_date=ta_date, **unticked("ta_scope", range(2, 6)),
                           **unticked("ta_new_sites", (*range(1, 13), 99)), ta_scope___1="1", ta_new_lesion="0",
                           ta_reported="2", tumor_assessment_complete="2"))
    for instance, les_id in enumerate(("L1-T1", "L1-T2", "L1-N1"), start=1):
        rows.append(repeat("lesion", instance, les_id=les_id, les_line="1", les_class="1", les_site=str(instance),
                           lesion_complete="2"))
    instance = 0
    for ta_date in dates[:3]:
        for les_id in ("L1-T1", "L1-T2", "L1-N1"):
            instance += 1
            rows.append(repeat("lesion_measurement", instance, lm_date=ta_date, lm_lesion=les_id, lm_status="1",
                               lm_mm=f"{10 + instance}.5", lesion_measurement_complete="2"))
    rows.append(repeat("biopsy", 1, bx_date="2021-06-02", bx_specimen="2", bx_ngs="1", biopsy_complete="2"))
    rows.append(repeat("ngs_variant", 1, var_bx_date="2021-06-02", var_gene="ALK", var_kind="1",
                       var_protein="G1202R", var_vaf="2.5", ngs_variant_complete="2"))
    return rows


def write_file(path: Path, patients: int) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, flat_columns(), lineterminator="\n", restval="")
        writer.writeheader()
        for number in range(patients):
            batch = _patient_rows(number)
            writer.writerows(batch)
            rows += len(batch)
    return rows


@contextmanager
def measured(label: str, rows: int, *, memory: bool):
    """Prints time and queries, or (memory=True) the tracemalloc peak: tracing slows Python code
    about twofold, so the two are measured on separate runs."""
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        yield
    seconds = time.perf_counter() - started
    if memory:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{label:<9} {rows:>7} rows  peak {peak / 1_048_576:6.1f} MiB (traced)")
    else:
        print(f"{label:<9} {rows:>7} rows {seconds:7.2f} s {rows / seconds:7.0f} rows/s {queries[0]:6} queries")


def run(directory: Path, patients: int, *, memory: bool) -> None:
    call_command("flush", interactive=False, verbosity=0)
    site = Site.objects.create(code="bench", name="Benchmark hospital")
    source = directory / f"records-{patients}.csv"
    rows = write_file(source, patients)
    if not memory:
        print(f"-- {patients} patients, {rows} rows, {source.stat().st_size / 1_048_576:.1f} MiB file")
    snapshot = copy_floor.TableSnapshot() if not memory and copy_floor.floor_measurable() else None
    started = time.perf_counter()
    with measured("import", rows, memory=memory):
        result = records_import(source=source, file_format="csv", site=site, user=None)
    seconds = time.perf_counter() - started
    if result.problems:
        raise SystemExit(f"the benchmark file has problems: {result.problems[:5]}")
    if not memory:
        copy_floor.print_written_floor(snapshot, rows, seconds, what="the import")
    if not memory:
        with measured("reimport", rows, memory=memory):
            again = records_import(source=source, file_format="csv", site=site, user=None)
        assert sum(again.created.values()) + sum(again.updated.values()) == 0
    exported = directory / "export.csv"
    with measured("export", rows, memory=memory), exported.open("w", newline="", encoding="utf-8") as output:
        records_export(output=output)
    assert Patient.objects.count() == patients
    if exported.read_bytes() != source.read_bytes():
        raise SystemExit("the export differs from the imported file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000, help="patients of the larger file")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    with tempfile.TemporaryDirectory(prefix="registry-benchmark-files-") as directory:
        for patients in (max(1, options.patients // 4), options.patients):
            run(Path(directory), patients, memory=False)
            run(Path(directory), patients, memory=True)


if __name__ == "__main__":
    main()
