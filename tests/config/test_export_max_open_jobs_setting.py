"""REGISTRY_EXPORT_MAX_OPEN_JOBS is checked at start-up (a fresh process per run: settings are read once)."""

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

READ = "import django; django.setup(); from django.conf import settings; print(settings.EXPORT_MAX_OPEN_JOBS)"


def test_the_cap_is_5_unless_set_and_0_stops_start_up_naming_the_variable(run_python):
    default = run_python("-c", READ, DJANGO_SETTINGS_MODULE="config.settings.local")
    zero = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local",
                      REGISTRY_EXPORT_MAX_OPEN_JOBS="0")

    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "5"
    assert zero.returncode != 0
    assert "ImproperlyConfigured: REGISTRY_EXPORT_MAX_OPEN_JOBS must be 1 or more" in zero.stderr
