"""A Celery worker whose derivation of each patient first waits, for the real-worker crash tests
(tests/test_celery_worker.py): slow enough to be killed in the middle of a task.

    python -m tests.slow_derivation_worker worker --pool=prefork --concurrency=1 ...

The wait is patched in here, in the test's own launcher, so no production code path carries a
test hook. Before deriving each patient, the process that derives it touches a file named by its
process id in SLOW_DERIVATION_MARKER_DIR: the test learns that a derivation has begun and which
pool process to kill. SLOW_DERIVATION_SECONDS is the wait per patient (0: none).

SLOW_WORKER_RESTORE_SECONDS (optional): how often this worker looks for tasks another, dead worker
left unacknowledged past the visibility timeout, and takes them back (kombu's default: about every
100 s), so that a test sees a killed worker's task redelivered to a live one within seconds.
"""
import os
import sys
import time
from pathlib import Path

import django


def _slowed(derive_patient, marker_dir: Path, seconds: float):
    def slow_derive_patient(record, settings):
        (marker_dir / str(os.getpid())).touch()
        time.sleep(seconds)
        return derive_patient(record, settings)

    return slow_derive_patient


def main(arguments: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from registry import derive

    # The derivation service calls `derive.derive_patient` through the package, so patching the
    # package's attribute slows every derivation; the prefork pool's processes inherit it.
    derive.derive_patient = _slowed(
        derive.derive_patient, Path(os.environ["SLOW_DERIVATION_MARKER_DIR"]),
        float(os.environ.get("SLOW_DERIVATION_SECONDS", "0")),
    )
    from config.celery import app

    restore_seconds = os.environ.get("SLOW_WORKER_RESTORE_SECONDS")
    if restore_seconds:
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "unacked_restore_interval": float(restore_seconds), "unacked_restore_throttle": 1,
        }
    app.worker_main(arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
