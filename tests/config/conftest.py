import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Variables the settings read; a subprocess starts without any of them unless a test sets it.
SETTINGS_VARIABLES = (
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REGISTRY_VAR_DIR", "LOG_LEVEL",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
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
