"""Production settings refuse local defaults and pass Django's deployment checklist.

Each test starts a fresh process: settings are read once per process, at start-up.
"""
import secrets

PRODUCTION = "config.settings.production"


def test_production_refuses_to_start_without_a_secret_key(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE=PRODUCTION, ALLOWED_HOSTS="registry.example.org")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in finished.stderr


def test_production_refuses_the_local_development_secret_key(run_python):
    finished = run_python(
        "manage.py", "check", DJANGO_SETTINGS_MODULE=PRODUCTION, ALLOWED_HOSTS="registry.example.org",
        SECRET_KEY="local-development-only-not-secret",
    )

    assert finished.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in finished.stderr


def test_production_refuses_to_start_without_allowed_hosts(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE=PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50))

    assert finished.returncode != 0
    assert "ImproperlyConfigured: ALLOWED_HOSTS must name" in finished.stderr


def test_production_passes_the_deployment_checklist_without_warnings(run_python):
    finished = run_python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE=PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="registry.example.org",
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "System check identified no issues" in finished.stdout


def test_a_malformed_setting_stops_start_up_naming_the_variable(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local", DEBUG="maybe")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: DEBUG must be one of" in finished.stderr
