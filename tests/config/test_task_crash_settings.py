"""The settings that make queued work survive crashes, read from the environment.

Each test runs the base settings module afresh (runpy) with the environment it sets, instead of
starting a process: the settings module reads the environment once, when it runs.
"""
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.celery import app
from config.settings import base
from registry.tasks import (
    derive_all_task, derive_chunk_task, derive_patients_task, derive_sweep_task, export_job_run_task,
)

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

VARIABLES = (
    "REGISTRY_DERIVATION_SWEEP_SECONDS", "REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS",
    "REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS", "REGISTRY_DERIVE_CHUNK_PATIENTS",
)


def _base_settings(monkeypatch, **variables) -> dict:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(base.__file__)))


def _crash_settings(values: dict) -> tuple:
    sweep = values["CELERY_BEAT_SCHEDULE"]["derive-stale-patients-sweep"]
    return (sweep["task"], sweep["schedule"], sweep["options"]["expires"], values["DERIVATION_SWEEP_GRACE_SECONDS"],
            values["CELERY_BROKER_TRANSPORT_OPTIONS"], values["CELERY_TASK_ACKS_LATE"],
            values["CELERY_WORKER_PREFETCH_MULTIPLIER"])


def test_by_default_the_sweep_runs_every_five_minutes_with_a_two_minute_grace_and_redelivery_waits_an_hour(
    monkeypatch,
):
    values = _base_settings(monkeypatch)

    assert _crash_settings(values) == (
        "registry.derive_sweep", 300.0, 300.0, 120, {"visibility_timeout": 3600}, True, 1)


def test_the_sweep_interval_grace_and_visibility_timeout_come_from_the_environment(monkeypatch):
    values = _base_settings(
        monkeypatch, REGISTRY_DERIVATION_SWEEP_SECONDS="60", REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS="30",
        REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS="7200",
    )

    assert _crash_settings(values) == (
        "registry.derive_sweep", 60.0, 60.0, 30, {"visibility_timeout": 7200}, True, 1)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS", "0", "must be 1 or more; got 0"),
    ("REGISTRY_DERIVATION_SWEEP_SECONDS", "0", "must be 1 or more; got 0"),
    ("REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS", "-1", "must be 0 or more; got -1"),
    ("REGISTRY_DERIVATION_SWEEP_SECONDS", "often", "must be a whole number; got 'often'"),
    ("REGISTRY_DERIVE_CHUNK_PATIENTS", "0", "must be 1 or more; got 0"),
])
def test_a_malformed_crash_setting_stops_start_up_naming_the_variable(monkeypatch, variable, value, message):
    with pytest.raises(ImproperlyConfigured) as raised:
        _base_settings(monkeypatch, **{variable: value})

    assert str(raised.value) == f"{variable} {message}"


def test_the_celery_app_reads_the_visibility_timeout_from_the_settings(settings):
    assert app.conf.broker_transport_options == {"visibility_timeout": settings.TASK_VISIBILITY_TIMEOUT_SECONDS}
    assert app.conf.beat_schedule["derive-stale-patients-sweep"]["task"] == derive_sweep_task.name


def test_the_derivation_tasks_are_requeued_when_their_worker_process_dies_and_an_export_is_not():
    # An export that kills its worker (out of memory) would be run again and again; a derivation is
    # bounded by its batch size, and idempotent.
    assert [(task.acks_late, task.reject_on_worker_lost)
            for task in (derive_patients_task, derive_all_task, derive_sweep_task, derive_chunk_task)] == [(True, True)] * 4
    assert not export_job_run_task.reject_on_worker_lost


def test_a_full_derivation_is_cut_into_chunks_of_1000_patients_unless_the_environment_says_otherwise(monkeypatch):
    assert _base_settings(monkeypatch)["DERIVE_CHUNK_PATIENTS"] == 1000
    assert _base_settings(monkeypatch, REGISTRY_DERIVE_CHUNK_PATIENTS="250")["DERIVE_CHUNK_PATIENTS"] == 250
