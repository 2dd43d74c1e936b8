"""A running registry for the PyCap tests: a gunicorn process of its own on PostgreSQL, or
pytest-django's live server thread on SQLite.

On PostgreSQL (CI's second run) the server is a separate process, started the way production
starts it (gunicorn, a sync worker), on a free port of 127.0.0.1, with DATABASE_URL pointing at this
session's test database; what a test writes is committed (transactional_db), so the server sees
it, and what the server writes the test reads back. An in-memory SQLite test database cannot be
shared with another process: there the same tests run against pytest-django's live server, a thread
of this process sharing its connection. The process is stopped when the session ends, its log
shown when it failed to start.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60


def database_url() -> str:
    """The test database as a URL for the server process."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}{port}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """gunicorn serving config.wsgi on its own port; `url` is the REDCap API's."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.log_path = directory / "server.log"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        environment = {
            key: value for key, value in os.environ.items()
            if key not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL")
        }
        environment.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "REGISTRY_VAR_DIR": str(self.directory / "var"),
        })
        for attempt in range(3):  # a port taken between the probe and gunicorn's bind: try another
            port = free_port()
            with self.log_path.open("w") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                     "--workers", "1", "--timeout", "120", "--log-level", "warning"],
                    cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                )
            self.url = f"http://127.0.0.1:{port}/redcap/api/"
            if self._wait_until_answering():
                return
            self.stop()
        raise RuntimeError(f"the registry server did not start; its log:\n{self.log_path.read_text()}")

    def _wait_until_answering(self) -> bool:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                # No token: the API answers 401 once Django is up.
                if requests.post(self.url, data={"content": "version"}, timeout=5).status_code == 401:
                    return True
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its worker still booting
                pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
