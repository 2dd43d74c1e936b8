"""Speed and memory of writing a synthetic cohort (registry/services/synthetic_cohort.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_synth \\
        .venv/bin/python benchmarks/synth_cohort.py --patients 10000 [--batch-size 500] [--without-history]
        [--follow-up registry|long_follow_up]

Uses a temporary SQLite database unless DATABASE_URL is set (then that database is flushed!).
Prints rows per model, seconds, rows per second and the peak resident memory of the process
(ru_maxrss). --without-history writes the same rows without their audit-trail rows (the run with
SIMPLE_HISTORY_ENABLED off, which create_with_history of registry/services/bulk_statements.py
obeys), to measure what the audit trail costs. --follow-up chooses the profile (FollowUpProfile;
`registry` by default). --traced adds a separate, slower run
under tracemalloc (traced Python allocations only) for a tenth of the patients and for all of them:
the two peaks should be about equal, as memory is bounded by the batch, not the cohort.

On PostgreSQL the run is set against its COPY floor (benchmarks/copy_floor.py): binary COPY FROM of
every row the run wrote (audit-trail rows included unless --without-history) back into the same
tables, in a transaction that is rolled back. The "COPY floor" line counts the same rows as the
"total" line, so their rows per second compare directly; the ratio is the run's time over the floor.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of the last 9,000 queries: that would be measured as the service's.
os.environ["DEBUG"] = "false"
_temporary = None
if not os.environ.get("DATABASE_URL"):
    _temporary = tempfile.TemporaryDirectory(prefix="registry-benchmark-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_temporary.name}/benchmark.sqlite3"

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from registry.services import synthetic_cohort  # noqa: E402
from benchmarks import copy_floor  # noqa: E402


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(patients: int, batch_size: int, *, traced: bool, history: bool, follow_up: str) -> None:
    call_command("flush", interactive=False, verbosity=0)
    snapshot = copy_floor.TableSnapshot() if not traced and copy_floor.floor_measurable() else None
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    summary = synthetic_cohort.synthetic_cohort_create(patients=patients, seed=1, batch_size=batch_size,
                                                       follow_up=follow_up)
    seconds = time.perf_counter() - started
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"traced: {patients} patients, batch {batch_size}: peak {peak / 1_048_576:.0f} MiB (tracemalloc)")
        return
    print(f"-- {patients} patients ({follow_up}) in {summary.batches} batches of {batch_size}")
    for name, rows in summary.rows_by_model.items():
        print(f"{name:<22} {rows:>10}")
    total = summary.total_rows
    print(f"{'total':<22} {total:>10} rows {seconds:8.1f} s {total / seconds:8.0f} rows/s "
          f"(+ {total if history else 0} history rows)")
    print(f"peak resident memory {_peak_rss_mib():.0f} MiB")
    copy_floor.print_written_floor(snapshot, total, seconds, what="the run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--without-history", action="store_true", help="skip the audit-trail rows")
    parser.add_argument("--follow-up", choices=synthetic_cohort.FOLLOW_UP_PROFILES,
                        default=synthetic_cohort.DEFAULT_FOLLOW_UP)
    parser.add_argument("--traced", action="store_true", help="also measure tracemalloc peaks (slower)")
    options = parser.parse_args()
    if options.without_history:
        settings.SIMPLE_HISTORY_ENABLED = False
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"history {'off' if options.without_history else 'on'}")
    history = not options.without_history
    run(options.patients, options.batch_size, traced=False, history=history, follow_up=options.follow_up)
    if options.traced:
        for patients in (max(1, options.patients // 10), options.patients):
            run(patients, options.batch_size, traced=True, history=history, follow_up=options.follow_up)


if __name__ == "__main__":
    main()
