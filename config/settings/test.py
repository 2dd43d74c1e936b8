"""Test settings: fast password hashing; the database still comes from DATABASE_URL."""
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
