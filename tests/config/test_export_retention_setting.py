"""REGISTRY_EXPORT_RETENTION_DAYS is checked at start-up (a fresh process per test: settings are read once)."""

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")


def test_zero_retention_days_stops_start_up_naming_the_variable(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local",
                          REGISTRY_EXPORT_RETENTION_DAYS="0")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: REGISTRY_EXPORT_RETENTION_DAYS must be 1 or more" in finished.stderr


def test_a_number_of_days_is_the_setting(run_python):
    finished = run_python(
        "-c", "import django; django.setup(); from django.conf import settings; print(settings.EXPORT_RETENTION_DAYS)",
        DJANGO_SETTINGS_MODULE="config.settings.local", REGISTRY_EXPORT_RETENTION_DAYS="30",
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "30"
