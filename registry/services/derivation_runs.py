"""Full derivations fanned out in chunks of patients (issue 14 part 1).

    derivation_run_start(patient_ids=..., trigger=...)   a run and its chunks (one transaction)
    derivation_run_dispatch(run)                        its chunks as a Celery group, one task each
    derivation_run_inline(run, processes=N)             its chunks here, or in N local processes
    derivation_chunk_run(chunk_id=...)                  what one chunk's task (or process) runs
    derivation_run_retry(run)                           queues again the chunks not done (failed ones)

A full derivation (analysis settings changed, the nightly catch-up after a rules version change,
`derive` without --record) has its patients cut into chunks of settings.DERIVE_CHUNK_PATIENTS. A
chunk is derived in one transaction, which also marks it done and adds it to its run's counters, so:

- a chunk that is killed leaves nothing behind (its transaction dies with it) and runs again whole;
- a chunk that runs twice (redelivered by the broker, retried by hand) is derived once: the second
  run waits on the chunk's row lock, then finds the chunk done and does nothing; should both get
  past it anyway, storing a patient's results deletes the previous ones in the same transaction
  (registry/services/derivation.py), so a patient never holds two sets of rows;
- a failed chunk (after its task's retries) is marked failed with its error; the other chunks go on,
  and `derivation_run_retry` runs only the ones not done.

A chunk costs the queries of one batch of registry/services/derivation.py whatever its size (12 with
the settings), plus 4 of its own: marking it running (outside the transaction, so that the admin
sees it), locking it, one UPDATE that marks it done and one that counts it in its run.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
from collections.abc import Callable, Iterable

from django.conf import settings as django_settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from registry import derive
from registry.models import DerivationChunk, DerivationRun
from registry.selectors.derivation_inputs import current_analysis_settings, settings_snapshot
from registry.services.derivation import DerivationSummary, derive_batch

logger = logging.getLogger(__name__)

ERROR_LENGTH = 2000


class ParallelNotPossible(Exception):
    """Local processes cannot derive in parallel on this database."""


def derivation_run_start(
    *, patient_ids: Iterable[int], trigger: str, user=None, reason: str = "", chunk_patients: int | None = None,
    task_id: str = "",
) -> DerivationRun | None:
    """Records a run of these patients cut into chunks (in id order), none started yet; None when
    there is no patient. Two queries (three with the settings' first read): the run, then its chunks.

    `task_id`: the Celery task recording the run. A run that task recorded already (its worker died
    before it sent the chunks, and the broker delivered it again) is answered instead, with its
    chunks as they are; the caller sends those not done. One query more, to look for it."""
    recorded = _run_of_task(task_id)
    if recorded is not None:
        return recorded
    if chunk_patients is None:
        chunk_patients = django_settings.DERIVE_CHUNK_PATIENTS
    if chunk_patients < 1:
        raise ValueError(f"chunk_patients must be at least 1, not {chunk_patients}")
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    if not ids:
        return None
    chunks = [ids[start:start + chunk_patients] for start in range(0, len(ids), chunk_patients)]
    settings = current_analysis_settings()
    try:
        with transaction.atomic():
            run = DerivationRun.objects.create(
                trigger=trigger, requested_by=user, reason=reason[:200], rules_version=settings.rules_version,
                settings_snapshot=settings_snapshot(settings), chunk_patients=chunk_patients,
                total_patients=len(ids), total_chunks=len(chunks), started_at=timezone.now(), task_id=task_id,
            )
            DerivationChunk.objects.bulk_create(
                DerivationChunk(run=run, number=number, patient_ids=chunk) for number, chunk in enumerate(chunks, 1))
    except IntegrityError:
        # Two deliveries of one task at once: the other one recorded the run (the unique constraint
        # derivation_run_one_per_task let only one through). Any other refusal is raised.
        recorded = _run_of_task(task_id)
        if recorded is None:
            raise
        return recorded
    return run


def _run_of_task(task_id: str) -> DerivationRun | None:
    """The run the Celery task `task_id` recorded; None for none, or for no task id."""
    return DerivationRun.objects.filter(task_id=task_id).first() if task_id else None


def derivation_chunk_run(*, chunk_id: int, settings: derive.AnalysisSettings | None = None) -> DerivationSummary:
    """Derives one chunk's patients and marks it done, in one transaction; nothing when it is done
    already (or gone with its run). Idempotent. `settings` None: the stored ones, read in the
    chunk's transaction, so that a chunk started after a settings change derives with the new ones."""
    DerivationChunk.objects.filter(
        pk=chunk_id, status__in=[DerivationChunk.Status.QUEUED, DerivationChunk.Status.RUNNING],
    ).update(status=DerivationChunk.Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now())
    with transaction.atomic(savepoint=False):
        chunk = (DerivationChunk.objects.select_for_update().filter(pk=chunk_id)
                 .only("run_id", "status", "patient_ids").first())
        if chunk is None or chunk.status != DerivationChunk.Status.RUNNING:
            # Done by an earlier delivery, or failed and not retried: counted once already.
            return DerivationSummary()
        if settings is None:
            settings = current_analysis_settings()
        summary = derive_batch(chunk.patient_ids, settings, settings_snapshot(settings))
        now = timezone.now()
        DerivationChunk.objects.filter(pk=chunk_id).update(
            status=DerivationChunk.Status.DONE, finished_at=now, patients=summary.patients, lines=summary.lines,
            assessments=summary.assessments, biopsies=summary.biopsies, flags=summary.flags, error="",
        )
        _count_in_run(chunk.run_id, now, done=1, patients=summary.patients)
    return summary


def derivation_chunk_failed(*, chunk_id: int, error: str) -> bool:
    """Marks a chunk failed for good (its task gave up) with why; False when it was done or failed
    already. The other chunks are not touched."""
    with transaction.atomic():
        chunk = DerivationChunk.objects.select_for_update().filter(pk=chunk_id).only("run_id", "status").first()
        if chunk is None or chunk.status in (DerivationChunk.Status.DONE, DerivationChunk.Status.FAILED):
            return False
        now = timezone.now()
        DerivationChunk.objects.filter(pk=chunk_id).update(
            status=DerivationChunk.Status.FAILED, finished_at=now, error=error[:ERROR_LENGTH])
        _count_in_run(chunk.run_id, now, failed=1)
    logger.error("Derivation chunk %d failed: %s", chunk_id, error)
    return True


def _count_in_run(run_id: int, now, *, done: int = 0, failed: int = 0, patients: int = 0) -> None:
    """One UPDATE: the chunk counted in its run, and the run finished when it was the last one. The
    row lock orders the chunks that finish together, so exactly one of them sees itself the last."""
    DerivationRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + done, chunks_failed=F("chunks_failed") + failed,
        patients_done=F("patients_done") + patients,
        finished_at=Case(
            When(Q(total_chunks__lte=F("chunks_done") + F("chunks_failed") + done + failed), then=Value(now)),
            default=F("finished_at"),
        ),
    )


def derivation_run_retry(*, run: DerivationRun) -> list[int]:
    """Queues again the run's chunks that are not done (failed, or left running by a process that
    died without a broker to redeliver them); returns their ids. The done chunks stay done."""
    with transaction.atomic():
        locked = DerivationRun.objects.select_for_update().get(pk=run.pk)
        chunks = DerivationChunk.objects.filter(run=locked).exclude(status=DerivationChunk.Status.DONE)
        chunk_ids = list(chunks.order_by("number").values_list("id", flat=True))
        failed = chunks.filter(status=DerivationChunk.Status.FAILED).update(
            status=DerivationChunk.Status.QUEUED, error="", finished_at=None)
        DerivationRun.objects.filter(pk=run.pk).update(chunks_failed=F("chunks_failed") - failed, finished_at=None)
    run.refresh_from_db()
    return chunk_ids


# ---------------------------------------------------------------------------- running the chunks

def chunks_go_to_workers() -> bool:
    """Whether a broker is configured, so that chunks sent as a group run on the Celery workers (and
    not here, eagerly)."""
    from registry.tasks import derive_chunk_task

    return not derive_chunk_task.app.conf.task_always_eager


def derivation_run_dispatch(*, run: DerivationRun, chunk_ids: list[int] | None = None) -> None:
    """Sends the run's chunks (or those given) to the workers as one Celery group; with no broker
    (eager) they run here, one after the other. The run must be committed: a worker reads it."""
    from celery import group

    from registry.tasks import derive_chunk_task

    if chunk_ids is None:
        chunk_ids = _chunk_ids(run)
    if not chunk_ids:
        return
    if connection.in_atomic_block and chunks_go_to_workers():
        raise RuntimeError("derivation_run_dispatch inside a transaction: the workers would not see the run")
    group(derive_chunk_task.si(chunk_id) for chunk_id in chunk_ids).apply_async()


def derivation_run_inline(
    *, run: DerivationRun, chunk_ids: list[int] | None = None, processes: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Runs the chunks in this process (`processes` 1) or in that many local processes (fork), for a
    machine without a broker. A chunk that fails is marked failed and the others go on; returns the
    failed chunks' ids. `progress(patients done, patients in the run)` after each chunk.

    Several processes need a database that takes concurrent writers: on SQLite, ParallelNotPossible.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, not {processes}")
    if processes > 1 and connection.vendor == "sqlite":
        raise ParallelNotPossible("SQLite takes one writer at a time, so chunks cannot be derived in parallel "
                                  "on it; use PostgreSQL, or derive without --parallel")
    if chunk_ids is None:
        chunk_ids = _chunk_ids(run)
    failed: list[int] = []
    done = run.patients_done

    def finished(chunk_id: int, patients: int | None) -> None:
        nonlocal done
        if patients is None:
            failed.append(chunk_id)
        else:
            done += patients
        if progress is not None:
            progress(done, run.total_patients)

    if processes == 1:
        for chunk_id in chunk_ids:
            finished(chunk_id, _chunk_in_this_process(chunk_id))
        return failed
    # The children open their own connections: none may be shared across the fork.
    connections.close_all()
    _memory_returned()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for chunk_id, patients in pool.imap_unordered(_chunk_in_child, chunk_ids):
            finished(chunk_id, patients)
    return failed


def _memory_returned() -> None:
    """Frees what this process no longer uses and hands it back to the system (glibc's malloc_trim), so
    that the forked workers do not start with it resident: a worker's memory then depends on its chunk,
    not on the size of the cohort this process listed before forking."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _chunk_in_this_process(chunk_id: int) -> int | None:
    """The chunk's patients derived, or None when it failed (and is marked so)."""
    try:
        return derivation_chunk_run(chunk_id=chunk_id).patients
    except Exception as error:  # noqa: BLE001 - any failure of one chunk is recorded on it; the others go on
        logger.exception("Derivation chunk %d failed", chunk_id)
        derivation_chunk_failed(chunk_id=chunk_id, error=f"{type(error).__name__}: {error}")
        return None


def _chunk_in_child(chunk_id: int) -> tuple[int, int | None]:
    try:
        return chunk_id, _chunk_in_this_process(chunk_id)
    finally:
        connections.close_all()


def _chunk_ids(run: DerivationRun) -> list[int]:
    return list(run.chunks.exclude(status=DerivationChunk.Status.DONE).order_by("number").values_list("id", flat=True))


def derivation_run_summary(*, run: DerivationRun) -> DerivationSummary:
    """What the run's done chunks stored, summed (one query)."""
    totals = run.chunks.filter(status=DerivationChunk.Status.DONE).aggregate(
        patients=Sum("patients"), lines=Sum("lines"), assessments=Sum("assessments"), biopsies=Sum("biopsies"),
        flags=Sum("flags"))
    return DerivationSummary(**{name: value or 0 for name, value in totals.items()})
