"""The Celery path once for real: a worker process on Redis derives a patient this test committed.

Needs PostgreSQL (the worker, another process, must see the test database; pytest-django's SQLite
test database is in memory) and Redis at CELERY_WORKER_TEST_BROKER (default redis://127.0.0.1:6379/15).
Without Redis the test is skipped, except under CI=true where it fails.
"""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from registry.models import AnalysisSettings, PatientDerivation
from tests import factories

REPO_ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("CELERY_WORKER_TEST_BROKER", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 60

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


@pytest.fixture
def worker_queue(transactional_db, tmp_path):
    """A worker consuming a queue of its own; stopped (and its log shown on failure) afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process cannot see an in-memory SQLite test database; CI runs this on PostgreSQL")
    _redis_or_skip()
    queue = f"derive-test-{uuid.uuid4().hex[:12]}"
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
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1", "-Q", queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
             f"--hostname={queue}@%h"],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        yield queue, log_path
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def test_a_worker_on_redis_derives_a_committed_patient(site_a, worker_queue):
    queue, log_path = worker_queue
    AnalysisSettings.objects.create(pk=1)
    patient = factories.make_full_patient(site_a)  # committed: transactional_db, no wrapping transaction
    sender = Celery("worker-test-sender", broker=BROKER_URL)

    sender.send_task("registry.derive_patients", args=[[patient.id]], queue=queue)

    deadline = time.monotonic() + WAIT_SECONDS
    while not PatientDerivation.objects.filter(patient=patient).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"no derivation after {WAIT_SECONDS} s; the worker's log:\n{log_path.read_text()}")
        time.sleep(0.5)
    stored = PatientDerivation.objects.get(patient=patient)
    assert (stored.is_stale, stored.rules_version, stored.flag_count) == (False, 1, 0)
    assert patient.line_derivations.count() == 1
