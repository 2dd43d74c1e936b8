"""Production: every secret from the environment; refuses to start with local defaults.

Expects to run behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto
(see README.md, "Production").
"""
import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F403 - settings modules extend the base by design
from .base import LOCAL_DEVELOPMENT_SECRET_KEY

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY == LOCAL_DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters in production, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# No localhost default here: the hosts the registry answers to are a deployment decision.
if not os.environ.get("ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the registry's host names in production, comma-separated")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])

# The API rate limits (registry/api/throttling.py) count in the cache: in a cache of each process's own,
# every gunicorn worker would count on its own, multiplying every limit by the number of workers.
if CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache":  # noqa: F405
    raise ImproperlyConfigured(
        "CACHE_URL must name the Redis cache that every web process shares in production (redis://host:6379/1): "
        "the API rate limits are counted there"
    )

# Administrators (and superusers) enter a one-time password after their password; to require it of
# another role too, add it here or name the roles in REGISTRY_REQUIRE_SECOND_FACTOR_ROLES.
REQUIRE_SECOND_FACTOR_ROLES = env_list("REGISTRY_REQUIRE_SECOND_FACTOR_ROLES", ["administrator"])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
