"""REGISTRY_DEIDENTIFICATION_KEY is checked at start-up: a key too short to be secret stops the process.

Each test starts a fresh process: settings are read once per process, at start-up.
"""
import secrets


def test_a_short_deidentification_key_stops_start_up_naming_the_variable(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local",
                          REGISTRY_DEIDENTIFICATION_KEY="too-short")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: REGISTRY_DEIDENTIFICATION_KEY must be a random string of at least 32" in (
        finished.stderr
    )


def test_a_long_enough_key_is_the_setting(run_python):
    key = secrets.token_urlsafe(32)

    finished = run_python(
        "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEIDENTIFICATION_KEY)",
        DJANGO_SETTINGS_MODULE="config.settings.local", REGISTRY_DEIDENTIFICATION_KEY=key,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == key


def test_production_starts_without_one_and_derives_it_from_the_secret_key(run_python):
    finished = run_python(
        "-c", "import django; django.setup(); from registry.exports.deidentify import deidentification_key; "
              "print(deidentification_key().source)",
        DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="registry.example.org", REGISTRY_DEIDENTIFICATION_KEY="", CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "derived from SECRET_KEY"
