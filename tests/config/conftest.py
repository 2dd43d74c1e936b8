import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import config.settings

REPO_ROOT = Path(__file__).resolve().parents[2]

# Variables the settings read; a subprocess starts without any of them unless a test sets it.
SETTINGS_VARIABLES = (
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REGISTRY_VAR_DIR", "LOG_LEVEL",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CACHE_URL", "REGISTRY_SESSION_IDLE_MINUTES",
    "REGISTRY_REQUIRE_SECOND_FACTOR_ROLES", "REGISTRY_TRUSTED_PROXY_COUNT", "REGISTRY_MISSING_DATA_CODES",
)


@pytest.fixture
def run_python(tmp_path):
    """Run the project's Python in a fresh process with only the given settings variables.

    REGISTRY_VAR_DIR points into tmp_path so nothing is written under the repository's var/.
    """

    def run(*arguments: str, **variables: str) -> subprocess.CompletedProcess:
        environment = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
        environment["REGISTRY_VAR_DIR"] = str(tmp_path / "var")
        environment.update(variables)
        return subprocess.run(
            [sys.executable, *arguments], cwd=REPO_ROOT, env=environment, capture_output=True, text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def read_settings(monkeypatch, tmp_path):
    """Execute a settings module afresh in this process with only the given settings variables, and
    return its names: the settings without the seconds a new process with django.setup() costs.

    Its base module is executed afresh too; both stay out of sys.modules afterwards.
    """

    def read(module: str, **variables: str) -> dict:
        for name in SETTINGS_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REGISTRY_VAR_DIR", str(tmp_path / "var"))
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delitem(sys.modules, "config.settings.base", raising=False)
        monkeypatch.setattr(config.settings, "base", sys.modules.get("config.settings.base"), raising=False)
        try:
            return runpy.run_module(module)
        finally:
            sys.modules.pop("config.settings.base", None)

    return read
