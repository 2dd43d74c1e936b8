"""Celery tasks: thin wrappers that take ids and call one service (registry/services/)."""
from celery import Task, shared_task
from django.db import OperationalError

from registry.services import derivation, derivation_runs, export_jobs

# A lost connection or a deadlock with a concurrent edit: try again, waiting longer each time.
_RETRY = {
    "autoretry_for": (OperationalError,), "retry_backoff": 5, "retry_backoff_max": 300, "retry_jitter": True,
    "max_retries": 6,
}


# Derivations are idempotent: a worker process killed mid-derivation (out of memory, SIGKILL) requeues
# its task, to be run again from the start, instead of failing it (acks_late is global: settings).
_REQUEUE_IF_WORKER_LOST = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="registry.derive_patients", **_RETRY, **_REQUEUE_IF_WORKER_LOST)
def derive_patients_task(patient_ids: list[int]) -> int:
    """Derives these patients (queued by `patients_changed` after a commit). Idempotent."""
    return derivation.patients_derive_queued(patient_ids=patient_ids).patients


@shared_task(name="registry.derive_all", bind=True, **_RETRY, **_REQUEUE_IF_WORKER_LOST)
def derive_all_task(self, trigger: str = "refresh", user_id: int | None = None, reason: str = "") -> int:
    """Derives every patient whose results are missing, stale or of other settings or rules (nightly,
    and after a settings change), fanned out: records a run of chunks and sends them to the workers
    as a group (with no broker they run here). Returns the run's patients.

    Delivered again after its worker died (between recording the run and sending its chunks, say),
    it finds the run it recorded (by its task id) and sends the chunks not done, instead of recording
    a second run and leaving the first never sent. Run twice as two tasks, it records a second run,
    whose chunks find most patients derived already by the first (harmless, not wasted for long: the
    first run's chunks and the second's derive the same results)."""
    from django.contrib.auth import get_user_model

    from registry.selectors.derivation_inputs import current_analysis_settings, patient_ids_to_derive

    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    run = derivation_runs.derivation_run_start(
        patient_ids=patient_ids_to_derive(current_analysis_settings()), trigger=trigger, user=user, reason=reason,
        task_id=self.request.id or "",
    )
    if run is None:
        return 0
    derivation_runs.derivation_run_dispatch(run=run)
    return run.total_patients


class _ChunkTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """The chunk's retries are spent (or its error is not one to retry): marked failed, with why,
        for the admin and `derive --retry-run`; the run's other chunks go on."""
        chunk_id = args[0] if args else kwargs["chunk_id"]
        derivation_runs.derivation_chunk_failed(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(name="registry.derive_chunk", base=_ChunkTask, **_RETRY, **_REQUEUE_IF_WORKER_LOST)
def derive_chunk_task(chunk_id: int) -> int:
    """Derives one chunk of a fanned-out run in one transaction and counts it in the run; a chunk
    done already is left alone. Idempotent: a chunk killed midway runs again whole, one delivered
    twice is derived once."""
    return derivation_runs.derivation_chunk_run(chunk_id=chunk_id).patients


@shared_task(name="registry.derive_sweep", **_RETRY, **_REQUEUE_IF_WORKER_LOST)
def derive_sweep_task() -> int:
    """Derives the patients stale for longer than REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS, whose
    queued derivation was lost (every REGISTRY_DERIVATION_SWEEP_SECONDS). Idempotent."""
    return derivation.derivations_sweep().patients


@shared_task(name="registry.run_export_job")
def export_job_run_task(job_id: int) -> str | None:
    """Writes one export requested in the admin (queued after its request's commit). Idempotent: a job
    already done or failed is left alone, one found running is written again. Not retried: a failed
    export records why on the job, and its requester asks again."""
    job = export_jobs.export_job_run(job_id=job_id)
    return job.status if job is not None else None


@shared_task(name="registry.expire_export_jobs", **_RETRY)
def expire_export_jobs_task() -> int:
    """Deletes the export files older than REGISTRY_EXPORT_RETENTION_DAYS (daily). Idempotent."""
    return export_jobs.export_jobs_expire().jobs


@shared_task(name="registry.run_quality_rules", **_RETRY)
def quality_rules_run_task(user_id: int | None = None) -> int:
    """Runs every data-quality rule on every record: nightly (no user), or asked for on the workspace's
    page by `user_id`. Idempotent: each run replaces the previous run's hits."""
    from django.contrib.auth import get_user_model

    from registry.models import QualityRuleRun
    from registry.services.data_quality import quality_rules_run

    if user_id is None:
        return quality_rules_run(trigger=QualityRuleRun.Trigger.NIGHTLY).hit_count
    user = get_user_model().objects.get(pk=user_id)
    return quality_rules_run(trigger=QualityRuleRun.Trigger.WORKSPACE, user=user).hit_count
