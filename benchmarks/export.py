"""Speed and memory of exporting datasets in every file format, from the database as it is.

    createdb -h 127.0.0.1 -U postgres registry_bench_export
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench_export
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py synth_cohort --patients 10000 --seed 7     # about 3 minutes
    .venv/bin/python manage.py derive --cutoff 2024-06-30
    .venv/bin/python benchmarks/export.py [--datasets lines endpoints] [--formats csv xlsx sav dta parquet]
                                          [--deidentified]

Reads the database of DATABASE_URL (nothing is written to it; the files go to a temporary folder).
Each export runs in a fresh process of its own, so that its peak memory is its own: printed are the
rows, seconds, rows per second and queries, the process's resident memory before the export (Django
and the libraries loaded) and its peak during it (VmHWM: Python objects, Arrow buffers and
pyreadstat's C memory alike). --deidentified adds a de-identified CSV export of each dataset.
Target: 10,000 patients' `lines` as CSV in under 10 seconds.
"""
import argparse
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


def _memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def one_export(name: str, file_format: str, deidentify: bool, directory: str) -> dict:
    """Runs in the child process: one export, measured."""
    import django

    django.setup()
    from django.db import connection

    # Loaded before measuring (as in a worker that has exported once): the export itself is measured.
    from registry.exports import formats, parquet_writer, statistics_writer, xlsx_writer  # noqa: F401
    from registry.services.datasets import dataset_export

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    connection.ensure_connection()
    before = _memory_mib("VmRSS")
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        rows = dataset_export(
            name=name, output=Path(directory) / f"{name}{formats.EXTENSIONS[file_format]}", file_format=file_format,
            deidentify=deidentify,
        )
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "queries": queries[0], "before_mib": before,
            "peak_mib": _memory_mib("VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["lines", "endpoints"])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--deidentified", action="store_true", help="also a de-identified CSV of each dataset")
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--one", nargs=4, metavar=("NAME", "FORMAT", "DEIDENTIFY", "DIRECTORY"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        name, file_format, deidentify, directory = arguments.one
        print(json.dumps(one_export(name, file_format, deidentify == "1", directory)))
        return

    import django

    django.setup()
    from django.db import connection

    from registry.models import LineDerivation, Patient, TreatmentLine

    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        parser.error("this benchmark is for PostgreSQL (set DATABASE_URL); --allow-sqlite to run it anyway")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}: {Patient.objects.count()} patients, "
          f"{TreatmentLine.objects.count()} lines, {LineDerivation.objects.count()} line derivations")
    connection.close()
    runs = [(name, file_format, False) for name in arguments.datasets for file_format in arguments.formats]
    if arguments.deidentified:
        runs += [(name, "csv", True) for name in arguments.datasets]
    print(f"{'dataset':<18} {'format':<16} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'queries':>7} "
          f"{'memory before':>13} {'peak':>8}")
    with tempfile.TemporaryDirectory(prefix="registry-benchmark-export-") as directory:
        for name, file_format, deidentify in runs:
            child = subprocess.run(
                [sys.executable, __file__, "--one", name, file_format, "1" if deidentify else "0", directory],
                capture_output=True, text=True, check=True, env=os.environ,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            label = f"{file_format}{' de-identified' if deidentify else ''}"
            print(f"{name:<18} {label:<16} {result['rows']:>8} {result['seconds']:>8.2f} "
                  f"{result['rows'] / result['seconds']:>9.0f} {result['queries']:>7} "
                  f"{result['before_mib']:>9.0f} MiB {result['peak_mib']:>4.0f} MiB", flush=True)
            if (name, file_format, deidentify) == ("lines", "csv", False):
                verdict = "met" if result["seconds"] < TARGET_SECONDS else "MISSED"
                print(f"  target: lines as CSV in under {TARGET_SECONDS} s: {verdict}", flush=True)


if __name__ == "__main__":
    main()
