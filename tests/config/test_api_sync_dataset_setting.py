"""REGISTRY_API_SYNC_DATASET_PATIENTS is checked at start-up (a fresh process per test: settings are read once)."""

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

READ = "import django; django.setup(); from django.conf import settings; print(settings.API_SYNC_DATASET_PATIENTS)"


def test_a_negative_limit_stops_start_up_naming_the_variable(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local",
                          REGISTRY_API_SYNC_DATASET_PATIENTS="-1")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: REGISTRY_API_SYNC_DATASET_PATIENTS must be 0 or more" in finished.stderr


def test_the_limit_is_2000_patients_unless_set(run_python):
    default = run_python("-c", READ, DJANGO_SETTINGS_MODULE="config.settings.local")
    zero = run_python("-c", READ, DJANGO_SETTINGS_MODULE="config.settings.local",
                      REGISTRY_API_SYNC_DATASET_PATIENTS="0")

    assert (default.returncode, zero.returncode) == (0, 0), default.stderr + zero.stderr
    assert (default.stdout.strip(), zero.stdout.strip()) == ("2000", "0")
