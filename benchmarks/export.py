"""Speed and memory of exporting datasets in every file format, from the database as it is.

    createdb -h 127.0.0.1 -U postgres registry_bench_export
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench_export
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/export.py [--patients 10000 [--seed 7] [--follow-up registry]] [--site CODE]
                                          [--datasets lines endpoints] [--formats csv xlsx sav dta parquet]
                                          [--deidentified] [--keep DIRECTORY]

--patients N: the database must hold N synthetic patients of the seed and follow-up profile; when it
holds none they are written first (registry/services/synthetic_cohort.py, about 13 minutes for 10,000
of the `registry` profile on 2 shared cores) and every patient not derived yet is derived (data cut-off
2024-06-30 when none is set). Without it the database is read as it is. Either way every patient of
the database is exported (or of --site only); the first line says how many.

Each export runs in a fresh process of its own, so that its peak memory is its own: printed are the
rows, seconds, rows per second and queries, the file's size, the process's resident memory before
the export (Django and the libraries loaded), its peak during it (VmHWM: Python objects, Arrow
buffers and pyreadstat's C memory alike) and the growth, the peak less the memory before: what the
export itself held. --deidentified adds a de-identified CSV export of each dataset. The files go to a
temporary folder, or are kept in --keep. The load average is printed before and after.
Target: 10,000 patients' `lines` as CSV in under 10 seconds.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of every query: that would be measured as the export's.
os.environ["DEBUG"] = "false"
# A de-identified run needs a key; a benchmark's own is as good as any.
os.environ.setdefault("REGISTRY_DEIDENTIFICATION_KEY", "benchmark-only-key-not-for-real-exports-0000")

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet")
TARGET_SECONDS = 10
DATA_CUTOFF = "2024-06-30"  # when the database has none: the one the README's figures were measured with


def _memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def one_export(name: str, file_format: str, deidentify: bool, directory: str, site_code: str) -> dict:
    """Runs in the child process: one export, measured."""
    import django

    django.setup()
    from django.db import connection

    # Loaded before measuring (as in a worker that has exported once): the export itself is measured.
    from registry.exports import formats, parquet_writer, statistics_writer, xlsx_writer  # noqa: F401
    from registry.exports.catalog import exportable
    from registry.models import Site
    from registry.services.datasets import dataset_export

    site = Site.objects.get(code=site_code) if site_code else None
    # A file of one blank row first: the modules the writer loads when first used (pyreadstat's
    # narwhals backends, Arrow's compute functions ...) are not the export's memory.
    warm_up = Path(directory) / f"warm-up{formats.EXTENSIONS[file_format]}"
    columns = formats.file_columns(file_format, exportable(name).columns)[1]
    formats.WRITERS[file_format](warm_up, formats.ExportFile(name, columns, [], {}), [[None] * len(columns)])
    warm_up.unlink()
    output = Path(directory) / f"{name}{'-deidentified' if deidentify else ''}{formats.EXTENSIONS[file_format]}"

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    connection.ensure_connection()
    before = _memory_mib("VmRSS")
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        rows = dataset_export(name=name, output=output, file_format=file_format, deidentify=deidentify, site=site)
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "queries": queries[0], "before_mib": before,
            "peak_mib": _memory_mib("VmHWM"), "file_mib": output.stat().st_size / 2**20}


def cohort(patients: int, seed: int, follow_up: str) -> None:
    """`patients` synthetic patients of the seed and profile, written when there are none, and every
    patient of the database derived."""
    from django.db import connection

    from benchmarks.cohort import cohort_written, patients_derived
    from registry.models import Patient
    from registry.selectors.derivation_inputs import stored_analysis_settings
    from registry.services.derivation import analysis_settings_update

    cohort_written(patients, seed, follow_up, exact=True)
    if stored_analysis_settings().data_cutoff is None:  # a cut-off set changes every result: derive them all
        analysis_settings_update(values={"data_cutoff": DATA_CUTOFF}, user=None, derive_all_after_commit=False)
        underived = list(Patient.objects.values_list("id", flat=True))
    else:
        underived = list(Patient.objects.filter(derivation__isnull=True).values_list("id", flat=True))
    if underived:
        patients_derived(underived)
        with connection.cursor() as cursor:  # the planner's statistics, as autovacuum would gather them
            cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, help="synthetic patients the database must hold (written if none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--follow-up", default="registry")
    parser.add_argument("--site", help="export this site's patients only (its code)")
    parser.add_argument("--datasets", nargs="+", default=["lines", "endpoints"])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--deidentified", action="store_true", help="also a de-identified CSV of each dataset")
    parser.add_argument("--keep", metavar="DIRECTORY", help="write the files here and keep them")
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--one", nargs=5, metavar=("NAME", "FORMAT", "DEIDENTIFY", "DIRECTORY", "SITE"),
                        help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        name, file_format, deidentify, directory, site_code = arguments.one
        print(json.dumps(one_export(name, file_format, deidentify == "1", directory, site_code)))
        return

    import django

    django.setup()
    from django.db import connection

    from registry.models import LineDerivation, Patient, TreatmentLine

    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        parser.error("this benchmark is for PostgreSQL (set DATABASE_URL); --allow-sqlite to run it anyway")
    if arguments.patients is not None:
        cohort(arguments.patients, arguments.seed, arguments.follow_up)
    exported = Patient.objects.filter(site__code=arguments.site) if arguments.site else Patient.objects.all()
    patient_count = exported.count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}: {Patient.objects.count()} patients, "
          f"{TreatmentLine.objects.count()} lines, {LineDerivation.objects.count()} line derivations; exporting "
          f"{patient_count} patients{f' of the site {arguments.site}' if arguments.site else ''}")
    connection.close()
    runs = [(name, file_format, False) for name in arguments.datasets for file_format in arguments.formats]
    if arguments.deidentified:
        runs += [(name, "csv", True) for name in arguments.datasets]
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    print(f"{'dataset':<12} {'format':<16} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'queries':>7} {'file':>10} "
          f"{'memory before':>13} {'peak':>8} {'growth':>8}")
    with contextlib.ExitStack() as stack:
        if arguments.keep:
            directory = arguments.keep
            Path(directory).mkdir(parents=True, exist_ok=True)
        else:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="registry-benchmark-export-"))
        for name, file_format, deidentify in runs:
            child = subprocess.run(
                [sys.executable, __file__, "--one", name, file_format, "1" if deidentify else "0", directory,
                 arguments.site or ""],
                capture_output=True, text=True, check=True, env=os.environ,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            label = f"{file_format}{' de-identified' if deidentify else ''}"
            print(f"{name:<12} {label:<16} {result['rows']:>9} {result['seconds']:>8.2f} "
                  f"{result['rows'] / result['seconds']:>9.0f} {result['queries']:>7} {result['file_mib']:>6.1f} MiB "
                  f"{result['before_mib']:>9.0f} MiB {result['peak_mib']:>4.0f} MiB "
                  f"{result['peak_mib'] - result['before_mib']:>4.0f} MiB", flush=True)
            # The target is for 10,000 patients; a larger export says nothing about it.
            if (name, file_format, deidentify) == ("lines", "csv", False) and patient_count <= 10_000:
                verdict = "met" if result["seconds"] < TARGET_SECONDS else "MISSED"
                print(f"  target: lines as CSV in under {TARGET_SECONDS} s: {verdict}", flush=True)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
