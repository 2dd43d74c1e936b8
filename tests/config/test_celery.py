"""Celery runs tasks in-process (eagerly) unless a broker is configured."""

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

PRINT_EAGER = "import django; django.setup(); from config.celery import app; print(app.conf.task_always_eager)"


def test_without_a_broker_tasks_run_eagerly(run_python):
    finished = run_python("-c", PRINT_EAGER, DJANGO_SETTINGS_MODULE="config.settings.local")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "True"


def test_with_a_broker_tasks_are_queued(run_python):
    finished = run_python(
        "-c", PRINT_EAGER, DJANGO_SETTINGS_MODULE="config.settings.local", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "False"
