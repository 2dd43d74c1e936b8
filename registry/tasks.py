"""Celery tasks: thin wrappers that take ids and call one service (registry/services/)."""
from celery import shared_task
from django.db import OperationalError

from registry.services import derivation

# A lost connection or a deadlock with a concurrent edit: try again, waiting longer each time.
_RETRY = {
    "autoretry_for": (OperationalError,), "retry_backoff": 5, "retry_backoff_max": 300, "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="registry.derive_patients", **_RETRY)
def derive_patients_task(patient_ids: list[int]) -> int:
    """Derives these patients (queued by `patients_changed` after a commit). Idempotent."""
    return derivation.patients_derive_queued(patient_ids=patient_ids).patients


@shared_task(name="registry.derive_all", **_RETRY)
def derive_all_task() -> int:
    """Derives every patient whose results are missing, stale or of other settings (nightly, and
    after a settings change). Idempotent."""
    return derivation.derivations_refresh().patients
