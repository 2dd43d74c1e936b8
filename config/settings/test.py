"""Test settings: fast password hashing; the database still comes from DATABASE_URL."""
from .base import *  # noqa: F403 - settings modules extend the base by design

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None  # noqa: F405
