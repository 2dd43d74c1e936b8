"""REGISTRY_DEIDENTIFICATION_KEY is checked at start-up: a key too short to be secret stops the process.

Each test starts a fresh process: settings are read once per process, at start-up.
"""
import os
import re
import runpy
import secrets
import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from registry.exports.deidentify import deidentification_key
from tests.config.conftest import REPO_ROOT

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")


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



def settings_module(monkeypatch, tmp_path, name: str, **variables: str) -> dict:
    """The settings module `name` as it comes out of the given environment, read in this process
    (its base read afresh too) and then forgotten, so that the running settings stay as they are."""
    monkeypatch.setenv("REGISTRY_VAR_DIR", str(tmp_path / "var"))
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    saved = {module: sys.modules.pop(module) for module in ("config.settings.base", f"config.settings.{name}")
             if module in sys.modules}
    try:
        return runpy.run_module(f"config.settings.{name}", run_name=f"config.settings.{name}")
    finally:
        for module in ("config.settings.base", f"config.settings.{name}"):
            sys.modules.pop(module, None)
        sys.modules.update(saved)


def write_key_file(tmp_path, text: str) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "deidentification.key").write_text(text)


def test_local_settings_take_the_key_file_scripts_up_creates_when_the_variable_is_unset(monkeypatch, tmp_path):
    key = "0123456789abcdef" * 4
    write_key_file(tmp_path, key + "\n")

    local = settings_module(monkeypatch, tmp_path, "local", REGISTRY_DEIDENTIFICATION_KEY="")

    assert (local["DEIDENTIFICATION_KEY"], local["DEIDENTIFICATION_KEY_SOURCE"]) == (
        key, "local key file deidentification.key")


def test_local_settings_without_the_variable_or_a_key_file_have_no_key(monkeypatch, tmp_path):
    local = settings_module(monkeypatch, tmp_path, "local", REGISTRY_DEIDENTIFICATION_KEY="")

    assert local["DEIDENTIFICATION_KEY"] is None
    assert "DEIDENTIFICATION_KEY_SOURCE" not in local


def test_the_variable_wins_over_the_local_key_file(monkeypatch, tmp_path):
    variable = secrets.token_urlsafe(32)
    write_key_file(tmp_path, "f" * 64)

    local = settings_module(monkeypatch, tmp_path, "local", REGISTRY_DEIDENTIFICATION_KEY=variable)

    assert local["DEIDENTIFICATION_KEY"] == variable
    assert "DEIDENTIFICATION_KEY_SOURCE" not in local


def test_a_short_local_key_file_stops_start_up_naming_the_file(monkeypatch, tmp_path):
    write_key_file(tmp_path, "short\n")

    with pytest.raises(ImproperlyConfigured) as stopped:
        settings_module(monkeypatch, tmp_path, "local", REGISTRY_DEIDENTIFICATION_KEY="")

    assert str(stopped.value) == (
        f"{tmp_path / 'var' / 'deidentification.key'} holds a de-identification key of 5 characters; it needs at "
        "least 32. Delete the file and run ./scripts/up again to create a new one."
    )


def test_production_never_reads_the_local_key_file(monkeypatch, tmp_path):
    write_key_file(tmp_path, "f" * 64)

    production = settings_module(monkeypatch, tmp_path, "production", REGISTRY_DEIDENTIFICATION_KEY="",
                                 SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="registry.example.org",
                                 CACHE_URL="redis://127.0.0.1:6379/1")

    assert production["DEIDENTIFICATION_KEY"] is None
    assert "DEIDENTIFICATION_KEY_SOURCE" not in production


def test_the_key_files_source_is_named_in_the_provenance(settings):
    settings.DEIDENTIFICATION_KEY = "0123456789abcdef" * 4
    settings.DEIDENTIFICATION_KEY_SOURCE = "local key file deidentification.key"

    assert deidentification_key().source == "local key file deidentification.key"


def test_the_up_script_creates_a_private_random_key_once(tmp_path):
    script = REPO_ROOT / "scripts" / "local-deidentification-key"
    environment = {"PATH": os.environ["PATH"], "REGISTRY_VAR_DIR": str(tmp_path / "var")}

    first = subprocess.run([str(script)], env=environment, capture_output=True, text=True, timeout=30)
    key_file = tmp_path / "var" / "deidentification.key"
    key = key_file.read_text()
    second = subprocess.run([str(script)], env=environment, capture_output=True, text=True, timeout=30)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == key  # the second run keeps it
    assert second.stdout == ""
