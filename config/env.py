"""Reading settings from the environment, failing loudly with the variable's name.

A malformed value must stop the process at start-up rather than surface later as a
confusing runtime error (CONVENTIONS.md §8).
"""
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value.strip()


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# The registry is tested on these two engines only (scripts/test runs the suite on both).
_SUPPORTED_DATABASE_ENGINES = {
    "django.db.backends.sqlite3": "sqlite:///",
    "django.db.backends.postgresql": "postgres://",
}


def env_database(name: str, default: str, *, conn_max_age: int = 0) -> dict:
    """A Django DATABASES entry from a database URL (sqlite:///path or postgres://user:password@host:port/name).

    An unset or empty variable means `default`. A SQLite file's folder is created, so the embedded
    default works on a fresh clone.
    """
    url = os.environ.get(name) or default
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age)
    except Exception as error:  # dj-database-url raises several exception types for a malformed URL
        raise ImproperlyConfigured(f"{name} is not a database URL ({error}): {_without_password(url)!r}") from None
    if config["ENGINE"] not in _SUPPORTED_DATABASE_ENGINES:
        schemes = " or ".join(_SUPPORTED_DATABASE_ENGINES.values())
        raise ImproperlyConfigured(
            f"{name} must start with {schemes}; got {_without_password(url)!r}"
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: {_without_password(url)!r}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Imports write thousands of rows in one transaction; WAL lets readers go on meanwhile.
        config.setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    return config


def _without_password(url: str) -> str:
    """The URL with any password masked, so an error message can be logged safely."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparsable URL>"
