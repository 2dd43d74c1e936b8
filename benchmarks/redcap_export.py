"""Exporting every record of 10,000 synthetic patients through PyCap, from a gunicorn server as
production runs it; prints seconds and the server's peak memory.

    createdb -h 127.0.0.1 -U postgres registry_bench_redcap
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench_redcap
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py synth_cohort --patients 10000 --seed 7     # about 3 minutes
    .venv/bin/python benchmarks/redcap_export.py [--formats csv df json] [--sizes 1000 10000]
                                                 [--server-args="--worker-class gthread --threads 2"]

Each export runs against a fresh server (gunicorn, one sync worker, production's command line and
its 30-second worker timeout) so that its peak is its own: printed are the patients, rows, bytes
and seconds PyCap took, and the worker's resident memory when idle (Django loaded, one request
served) and at its peak during the export (VmHWM from /proc, Linux). Streaming shows as a peak
that stays the same for 1,000 and for 10,000 patients. The database is only read; a benchmark
user and its token are created, and the token revoked at the end.

Formats: csv (PyCap's text), df (the same CSV read into a pandas DataFrame by PyCap) and json
(REDCap's JSON has every field on every row: about 13 times the CSV, 1.9 GB for 10,000 patients,
which PyCap then holds as Python objects, so json is not a default). --server-args are added to
gunicorn's command line, e.g. to compare worker classes and timeouts: a sync worker is killed when
a request outlasts --timeout (30 s by default), a gthread worker is not.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of every query: that would be measured as the export's.
os.environ["DEBUG"] = "false"

BENCHMARK_USER = "redcap-export-benchmark"
EXPECTED_PATIENTS = 10_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


class Server:
    """gunicorn serving config.wsgi as docker-compose.yml does (sync worker, default timeout)."""

    def __init__(self, extra_arguments: list[str]):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/redcap/api/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--log-level", "warning", *extra_arguments],
            cwd=ROOT, env={**os.environ}, stderr=subprocess.PIPE, text=True,
        )

    def wait(self, token: str) -> int:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.post(self.url, data={"token": token, "content": "version"}, timeout=5).ok:
                    return _worker_pid(self.process.pid)
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("the server did not answer")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            _, errors = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        return errors


def one_export(token: str, records: list[str] | None, file_format: str, server_arguments: list[str]) -> dict:
    import requests
    from redcap import Project

    server = Server(server_arguments)
    try:
        worker = server.wait(token)
        project = Project(server.url, token)
        project.export_metadata()  # the worker has served a request: what is measured is the export
        idle = _memory_mib(worker, "VmRSS")
        started = time.perf_counter()
        try:
            exported = project.export_records(format_type=file_format, records=records)
        except requests.RequestException:  # the response ended early: gunicorn killed its worker
            return {"cut_off_after": time.perf_counter() - started, "idle": idle}
        seconds = time.perf_counter() - started
        peak = _memory_mib(worker, "VmHWM")
    finally:
        errors = server.stop()
    if "WORKER TIMEOUT" in errors:
        return {"cut_off_after": seconds, "idle": idle}
    rows = exported.count("\n") - 1 if file_format == "csv" else len(exported)
    size = len(exported.encode()) if file_format == "csv" else None
    return {"rows": rows, "seconds": seconds, "idle": idle, "peak": peak, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", nargs="+", default=["csv", "df"], choices=["csv", "df", "json"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000], help="patients exported")
    parser.add_argument("--server-args", default="", help="more gunicorn arguments, e.g. '--timeout 10'")
    arguments = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database holding the synthetic cohort (see the docstring).")

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from registry.models import Patient
    from registry.services.api_tokens import api_token_create, api_token_revoke

    record_ids = sorted(Patient.objects.values_list("record_id", flat=True))
    print(f"{len(record_ids)} patients in the database")
    if len(record_ids) < max(arguments.sizes):
        sys.exit(f"Fewer patients than {max(arguments.sizes)}: run synth_cohort first (see the docstring).")
    user, _ = get_user_model().objects.get_or_create(
        username=BENCHMARK_USER, defaults={"is_superuser": True, "is_active": True})
    token, secret = api_token_create(user=user, name="benchmarks/redcap_export.py")
    try:
        print(f"{'patients':>8} {'format':>6} {'rows':>9} {'MB':>7} {'seconds':>8} {'rows/s':>8} "
              f"{'server idle MiB':>15} {'server peak MiB':>15} {'growth MiB':>10}")
        for size in arguments.sizes:
            # All patients: no records parameter (PyCap exports everything); fewer: the first ones by ID.
            records = None if size >= len(record_ids) else record_ids[:size]
            for file_format in arguments.formats:
                result = one_export(secret, records, file_format, arguments.server_args.split())
                if "cut_off_after" in result:
                    print(f"{size:>8} {file_format:>6} cut off by the server after {result['cut_off_after']:.1f} s "
                          "(gunicorn killed the worker: WORKER TIMEOUT)", flush=True)
                    continue
                megabytes = f"{result['bytes'] / 1e6:7.1f}" if result["bytes"] else f"{'':>7}"
                print(f"{size:>8} {file_format:>6} {result['rows']:>9} {megabytes} {result['seconds']:>8.1f} "
                      f"{result['rows'] / result['seconds']:>8.0f} {result['idle']:>15.0f} {result['peak']:>15.0f} "
                      f"{result['peak'] - result['idle']:>10.0f}", flush=True)
    finally:
        api_token_revoke(token=token)


if __name__ == "__main__":
    main()
