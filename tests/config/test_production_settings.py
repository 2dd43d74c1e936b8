"""Production settings refuse local defaults and pass Django's deployment checklist.

Each test starts a fresh process: settings are read once per process, at start-up.
"""
import secrets

import pytest

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

PRODUCTION = "config.settings.production"
SHARED_CACHE = "redis://127.0.0.1:6379/1"  # never connected to: `check` does not use the cache


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
        CACHE_URL=SHARED_CACHE,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "System check identified no issues" in finished.stdout


def test_a_malformed_setting_stops_start_up_naming_the_variable(run_python):
    finished = run_python("manage.py", "check", DJANGO_SETTINGS_MODULE="config.settings.local", DEBUG="maybe")

    assert finished.returncode != 0
    assert "ImproperlyConfigured: DEBUG must be one of" in finished.stderr


def test_production_refuses_to_start_with_each_process_counting_rate_limits_in_its_own_cache(run_python):
    finished = run_python(
        "manage.py", "check", DJANGO_SETTINGS_MODULE=PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="registry.example.org",
    )

    assert finished.returncode != 0
    assert "ImproperlyConfigured: CACHE_URL must name the Redis cache that every web process shares" in finished.stderr


def test_production_shares_the_redis_cache_and_requires_the_administrators_second_factor_by_default(read_settings):
    production = read_settings(PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="registry.example.org",
                               CACHE_URL=SHARED_CACHE)

    assert production["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1",
    }
    assert production["REQUIRE_SECOND_FACTOR_ROLES"] == ["administrator"]
    assert (production["SESSION_COOKIE_AGE"], production["SESSION_ENGINE"]) == (1800, "registry.sessions")


def test_production_takes_the_redis_broker_as_the_shared_cache_when_no_cache_url_is_given(read_settings):
    production = read_settings(PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="registry.example.org",
                               CELERY_BROKER_URL="redis://broker:6379/0")

    assert production["CACHES"]["default"]["LOCATION"] == "redis://broker:6379/0"
