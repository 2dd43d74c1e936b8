"""Setting Django up loads none of the study report's heavy libraries: every process pays for what
django.setup() imports (Celery workers, management commands, gunicorn workers), in start-up time and in
resident memory (245 MiB with them, 82 MiB without, measured when the admin stopped importing them)."""

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

HEAVY = ("matplotlib", "lifelines", "pandas", "scipy", "pyarrow")
CHECK = ("import sys, django; django.setup(); "
         f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))")


def test_django_setup_imports_no_plotting_statistics_or_dataframe_library(run_python):
    finished = run_python("-c", CHECK, DJANGO_SETTINGS_MODULE="config.settings.local")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == ""


def test_loading_the_url_configuration_imports_none_of_them_either(run_python):
    """Every web process, and the first request of a test client, loads every view's module: the
    datasets API once imported the study report, and with it matplotlib (whose first import on a
    machine builds its font cache, seconds long)."""
    check = ("import sys, django; django.setup(); from django.urls import get_resolver; "
             "get_resolver().url_patterns; "
             f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))")
    finished = run_python("-c", check, DJANGO_SETTINGS_MODULE="config.settings.local")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == ""
