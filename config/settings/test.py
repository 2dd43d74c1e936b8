"""Test settings: fast password hashing; the database still comes from DATABASE_URL."""
import os

from .base import *  # noqa: F403 - settings modules extend the base by design

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None  # noqa: F405

# Tests never run collectstatic: WhiteNoise serves from the apps' static folders, as in development,
# instead of warning on every request that STATIC_ROOT does not exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Django's test client logs in (client.login) without a request, which django-axes refuses; the
# lockout's own tests switch it on (tests/admin/test_login_lockout.py).
AXES_ENABLED = False

# scripts/test migrates one PostgreSQL database first and names it here: every test database is then
# created as its copy instead of running the migrations again (tests/template_db.py).
if os.environ.get("REGISTRY_TEST_POSTGRES_TEMPLATE") and DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = os.environ["REGISTRY_TEST_POSTGRES_TEMPLATE"]  # noqa: F405
