"""The Celery path once for real: an import committed in this process queues its patients'
derivation on Redis (transaction.on_commit, as in production), and a worker process derives them.

Needs PostgreSQL (the worker, another process, must see the test database; pytest-django's SQLite
test database is in memory) and Redis at CELERY_WORKER_TEST_BROKER (default redis://127.0.0.1:6379/15).
Without Redis the test is skipped, except under CI=true where it fails.
"""
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from registry.models import AnalysisSettings, LineDerivation, Patient, PatientDerivation, TreatmentLine
from registry.services.derivation import patients_derive
from registry.services.records import records_import

REPO_ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("CELERY_WORKER_TEST_BROKER", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 60
EXAMPLE_RECORDS = REPO_ROOT / "fixtures" / "example_records.csv"

pytestmark = pytest.mark.celery_worker


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        message = f"Redis is not reachable at {BROKER_URL}: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _database_url() -> str:
    """The test database as a URL for the worker process."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}{port}/{settings['NAME']}"


def _reset_producer_pools(app) -> None:
    """Forget the app's broker connections, so that the next send connects to the broker now configured."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._after_fork()


@pytest.fixture
def celery_on_redis(monkeypatch):
    """This process's Celery app queues tasks on the Redis test database instead of running them
    eagerly, as production settings with CELERY_BROKER_URL do; db 15 starts empty."""
    import redis

    from config.celery import app

    _redis_or_skip()
    redis.Redis.from_url(BROKER_URL).flushdb()
    saved = {name: app.conf[name] for name in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=BROKER_URL)
    _reset_producer_pools(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _reset_producer_pools(app)


@pytest.fixture
def worker(transactional_db, tmp_path, celery_on_redis):
    """A Celery worker process on the Redis test database; stopped (its log shown on failure) afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process cannot see an in-memory SQLite test database; CI runs this on PostgreSQL")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": BROKER_URL,
        "REGISTRY_VAR_DIR": str(tmp_path / "var"),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
             f"--hostname=derive-test-{uuid.uuid4().hex[:12]}@%h"],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(condition, log_path: Path, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} after {WAIT_SECONDS} s; the worker's log:\n{log_path.read_text()}")
        time.sleep(0.5)


def test_an_import_committed_here_is_derived_by_a_worker_on_redis(site_a, worker):
    # Given the analysis settings and no derived result yet
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    assert not PatientDerivation.objects.exists()

    # When a REDCap file is imported through the service every door uses (committed: transactional_db)
    result = records_import(source=EXAMPLE_RECORDS, file_format="csv", site=site_a, user=None)
    assert result.ok and Patient.objects.count() == 2

    # Then the queued task reaches the worker through Redis, and the worker derives both patients
    # as this process would (the example's EX-001: lines 1 and 2, line 1 ended for progression).
    _wait_for(lambda: PatientDerivation.objects.filter(is_stale=False).count() == 2, worker,
              "the imported patients were not derived")
    by_worker = {
        row.patient.record_id: (row.cohort, row.tki_sequence, row.index_pd_date, row.data_cutoff)
        for row in PatientDerivation.objects.select_related("patient")
    }
    lines_by_worker = sorted(LineDerivation.objects.values_list("patient__record_id", "line_no", "pd_date", "pfs_days"))
    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))
    assert by_worker == {
        row.patient.record_id: (row.cohort, row.tki_sequence, row.index_pd_date, row.data_cutoff)
        for row in PatientDerivation.objects.select_related("patient")
    }
    assert lines_by_worker == sorted(
        LineDerivation.objects.values_list("patient__record_id", "line_no", "pd_date", "pfs_days"))
    assert len(lines_by_worker) == TreatmentLine.objects.count() > 0
    assert "registry.derive_patients" in worker.read_text()
