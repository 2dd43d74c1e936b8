"""The Celery path for real: an import committed in this process queues its patients' derivation on
Redis (transaction.on_commit, as in production), and a worker process derives them; and queued
derivations survive crashes: a pool process killed mid-task (the task is requeued), a worker killed
with its pool mid-task (Redis redelivers the unacknowledged task after the visibility timeout), and a
server killed between an import's commit and the queueing of its derivation (the periodic sweep); and
a full derivation fanned out in chunks over two workers, one of them killed in the middle of a chunk.

The crash tests slow each patient's derivation down in the worker (tests/slow_derivation_worker.py) so
that a kill lands in the middle of a task, and shorten the visibility timeout and the sweep's interval
and grace to seconds.

Needs PostgreSQL (the worker, another process, must see the test database; pytest-django's SQLite
test database is in memory) and Redis at CELERY_WORKER_TEST_BROKER (default redis://127.0.0.1:6379/15).
Without Redis the test is skipped, except under CI=true where it fails.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from registry.models import AnalysisSettings, LineDerivation, Patient, PatientDerivation, TreatmentLine
from registry.services.derivation import patients_derive
from registry.services.records import records_import
from registry.tasks import derive_patients_task
from tests import factories

REPO_ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("CELERY_WORKER_TEST_BROKER", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 60
# The crash tests: 8 patients at 0.3 s each keep a derivation running for 2.4 s, which a kill interrupts.
PATIENTS = 8
SECONDS_PER_PATIENT = 0.3
VISIBILITY_TIMEOUT_SECONDS = 3
CRASH_WAIT_SECONDS = 30
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
    """Forget the app's broker connections, so that the next send connects to the broker now configured.

    The app's pools are kombu's process-wide ones, kept per broker URL: closing them without clearing
    kombu's registry would leave the next test with closed pools for the same URL."""
    from kombu import pools

    pools.reset()
    app._after_fork()


@pytest.fixture
def celery_on_redis(monkeypatch):
    """This process's Celery app queues tasks on the Redis test database instead of running them
    eagerly, as production settings with CELERY_BROKER_URL do; its Redis database starts and ends empty."""
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
        redis.Redis.from_url(BROKER_URL).flushdb()


@dataclass
class Worker:
    """A worker process started by a test (its own process group), its log and its derivation markers."""

    process: subprocess.Popen
    log_path: Path
    marker_dir: Path

    def log(self) -> str:
        return self.log_path.read_text()

    def deriving_pids(self) -> set[int]:
        """The processes that have begun deriving a patient (tests/slow_derivation_worker.py)."""
        return {int(marker.name) for marker in self.marker_dir.iterdir()}

    def kill(self) -> None:
        """SIGKILL the worker's main process and its pool: as a machine losing power or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """After the test: nothing it left behind matters (the broker's database is emptied before
        the next), so no warm shutdown is waited for."""
        if self.process.poll() is None:
            self.kill()


@pytest.fixture
def start_worker(transactional_db, tmp_path, celery_on_redis):
    """Starts Celery worker processes on the Redis test database and the test's PostgreSQL database;
    stops them (after the test, before its database is emptied) and shows their logs on failure."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process cannot see an in-memory SQLite test database; CI runs this on PostgreSQL")
    workers: list[Worker] = []

    def start(*arguments: str, slow_seconds: float | None = None, **variables: str) -> Worker:
        number = len(workers) + 1
        marker_dir = tmp_path / f"deriving-{number}"
        marker_dir.mkdir()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "CACHE_URL": BROKER_URL,
            "REGISTRY_VAR_DIR": str(tmp_path / "var"),
            "SLOW_DERIVATION_MARKER_DIR": str(marker_dir),
            "SLOW_DERIVATION_SECONDS": str(slow_seconds or 0),
            **variables,
        }
        # The plain worker, or one whose derivations wait (test-only launcher, same options).
        program = ["-m", "celery", "-A", "config"] if slow_seconds is None else ["-m", "tests.slow_derivation_worker"]
        log_path = tmp_path / f"worker-{number}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, *program, "worker", "--without-heartbeat", "--without-gossip", "--without-mingle",
                 "--loglevel=INFO", f"--hostname=derive-test-{uuid.uuid4().hex[:12]}@%h", *arguments],
                cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a test can kill it with its pool
            )
        workers.append(Worker(process=process, log_path=log_path, marker_dir=marker_dir))
        return workers[-1]

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def worker(start_worker):
    """One worker, the solo pool (tasks run in its main process)."""
    return start_worker("--pool=solo", "--concurrency=1").log_path


def _wait_for(condition, log_path: Path | list, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            logs = [log_path] if isinstance(log_path, Path) else [worker.log_path for worker in log_path]
            shown = "\n".join(f"--- {path.name}\n{path.read_text()}" for path in logs)
            pytest.fail(f"{what} after {seconds} s; the workers' logs:\n{shown}")
        time.sleep(0.1)


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


# ---------------------------------------------------------------------------- crashes

def _patients_to_derive(site) -> list[int]:
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    return [factories.make_full_patient(site).id for _ in range(PATIENTS)]


def _all_derived(patient_ids: list[int]) -> bool:
    return PatientDerivation.objects.filter(patient_id__in=patient_ids, is_stale=False).count() == len(patient_ids)


def test_a_derivation_whose_pool_process_is_killed_mid_task_is_run_again_until_every_patient_is_derived(
    site_a, start_worker,
):
    # Given a worker with one pool process (started first: it boots while the patients are written),
    # deriving a queued task of 8 patients
    worker = start_worker("--pool=prefork", "--concurrency=1", slow_seconds=SECONDS_PER_PATIENT)
    patient_ids = _patients_to_derive(site_a)
    derive_patients_task.delay(patient_ids)
    _wait_for(worker.deriving_pids, [worker], "no derivation began", CRASH_WAIT_SECONDS)
    (pool_pid,) = worker.deriving_pids()
    assert pool_pid != worker.process.pid

    # When the pool process is killed in the middle of the task
    os.kill(pool_pid, signal.SIGKILL)
    assert not PatientDerivation.objects.exists()  # its transaction died with it

    # Then the worker's main process requeues the task, a new pool process runs it again from the
    # start, and every patient ends derived with no manual step
    _wait_for(lambda: _all_derived(patient_ids), [worker], "the patients were not derived", CRASH_WAIT_SECONDS)
    assert len(worker.deriving_pids() - {pool_pid}) == 1
    assert "Worker exited prematurely: signal 9 (SIGKILL)" in worker.log()
    assert worker.process.poll() is None


def test_a_derivation_whose_worker_is_killed_with_its_pool_mid_task_is_redelivered_to_the_next_worker(
    site_a, start_worker,
):
    import redis

    broker = redis.Redis.from_url(BROKER_URL)
    crash_settings = {"REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS)}
    # Given a worker deriving a queued task of 8 patients
    first = start_worker("--pool=prefork", "--concurrency=1", slow_seconds=SECONDS_PER_PATIENT, **crash_settings)
    patient_ids = _patients_to_derive(site_a)
    derive_patients_task.delay(patient_ids)
    _wait_for(first.deriving_pids, [first], "no derivation began", CRASH_WAIT_SECONDS)

    # When its main process and its pool are killed in the middle of the task
    first.kill()

    # Then the task is neither done nor lost: Redis holds it as delivered and unacknowledged
    assert not PatientDerivation.objects.exists()
    assert (broker.hlen("unacked"), broker.llen("celery")) == (1, 0)
    # and once the visibility timeout has passed since its delivery, the next worker to start takes
    # it back and derives every patient with no manual step
    (delivered_at,) = [score for _, score in broker.zrange("unacked_index", 0, -1, withscores=True)]
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT_SECONDS - time.time()))
    second = start_worker("--pool=prefork", "--concurrency=1", slow_seconds=SECONDS_PER_PATIENT, **crash_settings)
    _wait_for(lambda: _all_derived(patient_ids), [first, second], "the patients were not derived",
              CRASH_WAIT_SECONDS)
    _wait_for(lambda: broker.hlen("unacked") == 0, [first, second], "the task was not acknowledged", 10)
    assert len(first.deriving_pids()) == len(second.deriving_pids()) == 1
    assert broker.llen("celery") == 0


def test_patients_imported_just_before_the_server_was_killed_are_derived_by_the_periodic_sweep(
    site_a, start_worker, monkeypatch, tmp_path,
):
    # Given a worker with its beat, running the sweep every second with a grace of two seconds
    worker = start_worker(
        "--pool=prefork", "--concurrency=1", "--beat", f"--schedule={tmp_path / 'beat-schedule'}",
        REGISTRY_DERIVATION_SWEEP_SECONDS="1", REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS="2",
    )
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    lost = []

    def server_killed(patient_ids):
        lost.append(patient_ids)
        raise ConnectionError("the server was killed after the commit")

    # When an import commits on a server killed before its derivation reached the broker
    monkeypatch.setattr(derive_patients_task, "delay", server_killed)
    result = records_import(source=EXAMPLE_RECORDS, file_format="csv", site=site_a, user=None)
    assert result.ok and Patient.objects.count() == 2
    assert len(lost) == 1 and not PatientDerivation.objects.exists()

    # Then the sweep derives both patients, once they have waited longer than the grace, with no manual step
    _wait_for(lambda: PatientDerivation.objects.filter(is_stale=False).count() == 2, [worker],
              "the imported patients were not derived", CRASH_WAIT_SECONDS)
    assert "Derivation sweep: 2 patients stale for more than 2 s" in worker.log()


# ---------------------------------------------------------------------------- a fanned-out derivation

# 12 patients in chunks of 2: 6 chunks of about 1 s each (0.5 s per patient) over two workers.
FANOUT_PATIENTS = 12
FANOUT_CHUNK_PATIENTS = 2
FANOUT_SECONDS_PER_PATIENT = 0.5


def _fanout_patients(site) -> list[int]:
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    return sorted(factories.make_full_patient(site).id for _ in range(FANOUT_PATIENTS))


def _derived_once(patient_ids: list[int]) -> None:
    """Every patient has one stored derivation, and its one line and one biopsy result once each
    (a full factory patient has one line and one biopsy)."""
    from django.db.models import Count

    from registry.models import BiopsyDerivation

    assert sorted(PatientDerivation.objects.filter(is_stale=False).values_list("patient_id", flat=True)) == patient_ids
    for model in (LineDerivation, BiopsyDerivation):
        per_patient = dict(model.objects.values("patient_id").annotate(rows=Count("id")).values_list("patient_id", "rows"))
        assert per_patient == {patient_id: 1 for patient_id in patient_ids}, model.__name__


def _mid_patient(worker: Worker, within_seconds: float) -> bool:
    """The worker touched its marker this recently: it is in the wait before deriving a patient, so
    inside a chunk's transaction (the marker is touched as each patient's derivation begins)."""
    markers = list(worker.marker_dir.iterdir())
    return bool(markers) and time.time() - max(marker.stat().st_mtime for marker in markers) < within_seconds


def test_a_fanned_out_derivation_completes_on_the_other_worker_when_one_is_killed_mid_chunk(site_a, start_worker):
    from registry.models import DerivationRun
    from registry.services.derivation_runs import derivation_run_dispatch, derivation_run_start

    crash_settings = {"REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS),
                      "SLOW_WORKER_RESTORE_SECONDS": "1"}
    # Given two workers, each with one pool process, and a full derivation of 12 patients in 6 chunks sent to them
    first = start_worker("--pool=prefork", "--concurrency=1", slow_seconds=FANOUT_SECONDS_PER_PATIENT, **crash_settings)
    second = start_worker("--pool=prefork", "--concurrency=1", slow_seconds=FANOUT_SECONDS_PER_PATIENT,
                          **crash_settings)
    patient_ids = _fanout_patients(site_a)
    run = derivation_run_start(patient_ids=patient_ids, trigger=DerivationRun.Trigger.COMMAND,
                               chunk_patients=FANOUT_CHUNK_PATIENTS)
    assert run.total_chunks == 6
    derivation_run_dispatch(run=run)
    _wait_for(lambda: first.deriving_pids() and second.deriving_pids(), [first, second],
              "the two workers did not both begin a chunk", CRASH_WAIT_SECONDS)

    # When the first worker, main process and pool, is killed in the middle of deriving a patient
    # (within 0.2 s of the start of a 0.5 s wait: inside a chunk's transaction)
    _wait_for(lambda: _mid_patient(first, 0.2), [first, second], "the first worker was not caught mid-chunk",
              CRASH_WAIT_SECONDS)
    first.kill()

    # Then the second worker takes back the chunk the first was deriving (after the visibility
    # timeout) and the run finishes, every chunk done and counted once
    _wait_for(lambda: DerivationRun.objects.get(pk=run.pk).finished, [first, second], "the run did not finish",
              CRASH_WAIT_SECONDS)
    run.refresh_from_db()
    assert (run.chunks_done, run.chunks_failed, run.patients_done) == (6, 0, FANOUT_PATIENTS)
    assert run.finished_at is not None
    # The chunk interrupted by the kill was begun twice, and the others once; all done
    attempts = sorted(run.chunks.values_list("attempts", flat=True))
    assert attempts == [1, 1, 1, 1, 1, 2]
    assert set(run.chunks.values_list("status", flat=True)) == {"done"}
    # and every patient is derived once: one stored derivation, its line and biopsy results once
    _derived_once(patient_ids)
    assert second.process.poll() is None


def test_derive_with_a_broker_sends_the_chunks_to_the_workers_and_prints_their_progress(site_a, start_worker):
    import io

    from django.core.management import call_command

    from registry.models import DerivationRun

    # Given two workers and 12 patients
    start_worker("--pool=solo", "--concurrency=1")
    start_worker("--pool=solo", "--concurrency=1")
    patient_ids = _fanout_patients(site_a)
    out, err = io.StringIO(), io.StringIO()

    # When `derive` derives everyone in chunks of 5 (5 + 5 + 2)
    call_command("derive", "--batch-size", "5", stdout=out, stderr=err)

    # Then it waited for the workers' run, showing its progress, and printed what they stored
    run = DerivationRun.objects.get()
    assert (run.total_chunks, run.chunks_done, run.patients_done) == (3, 3, FANOUT_PATIENTS)
    assert f"Derivation run {run.pk}: 12 patients in 3 chunks of up to 5, sent to the Celery workers" in err.getvalue()
    assert err.getvalue().rstrip().endswith("] 12/12 patients")
    assert out.getvalue().splitlines()[:5] == ["patients 12", "lines 12", "assessments 0", "biopsies 12", "flags 0"]
    _derived_once(patient_ids)


def test_a_settings_change_is_derived_by_the_workers_as_a_run_of_chunks(site_a, start_worker, administrator):
    from registry.models import DerivationRun
    from registry.services.derivation import analysis_settings_update

    # Given two workers cutting runs into chunks of 5 (12 patients: 5 + 5 + 2), and 12 patients
    # derived with the cut-off 2024-06-30
    workers = [start_worker("--pool=solo", "--concurrency=1", REGISTRY_DERIVE_CHUNK_PATIENTS="5") for _ in range(2)]
    patient_ids = _fanout_patients(site_a)
    patients_derive(patient_ids=patient_ids)

    # When an administrator changes the cut-off (committed: the derivation of everyone is queued)
    analysis_settings_update(values={"data_cutoff": "2023-12-31"}, user=administrator)

    # Then a worker records the run and the workers derive its chunks, every patient once with the new cut-off
    _wait_for(lambda: DerivationRun.objects.filter(finished_at__isnull=False).exists(), workers,
              "the settings change was not derived")
    run = DerivationRun.objects.get()
    assert (run.trigger, run.requested_by, run.total_chunks, run.chunks_done, run.patients_done) == (
        "settings", administrator, 3, 3, FANOUT_PATIENTS)
    _derived_once(patient_ids)
    assert set(PatientDerivation.objects.values_list("data_cutoff", flat=True)) == {date(2023, 12, 31)}
