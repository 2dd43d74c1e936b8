"""DATABASE_URL: an embedded SQLite file by default, PostgreSQL by URL, anything else refused."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_database

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")


def test_without_database_url_the_default_sqlite_file_is_used_and_its_folder_created(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    default = f"sqlite:///{tmp_path / 'var' / 'registry.sqlite3'}"

    database = env_database("DATABASE_URL", default=default)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "var" / "registry.sqlite3")
    assert (tmp_path / "var").is_dir()


def test_an_empty_database_url_means_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "")

    database = env_database("DATABASE_URL", default=f"sqlite:///{tmp_path / 'registry.sqlite3'}")

    assert database["NAME"] == str(tmp_path / "registry.sqlite3")


def test_postgres_url_gives_every_connection_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://registry:s3cret@db.example.org:5433/registry")

    database = env_database("DATABASE_URL", default=f"sqlite:///{tmp_path / 'unused.sqlite3'}", conn_max_age=60)

    assert {key: database[key] for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "CONN_MAX_AGE")} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "registry",
        "USER": "registry",
        "PASSWORD": "s3cret",
        "HOST": "db.example.org",
        "PORT": 5433,
        "CONN_MAX_AGE": 60,
    }


def test_an_unsupported_engine_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "mysql://registry@db.example.org/registry")

    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL must start with sqlite:/// or postgres://"):
        env_database("DATABASE_URL", default=f"sqlite:///{tmp_path / 'unused.sqlite3'}")


def test_a_malformed_url_is_refused_by_name_without_showing_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://registry:s3cret@db.example.org:notaport/registry")

    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL is not a database URL") as raised:
        env_database("DATABASE_URL", default=f"sqlite:///{tmp_path / 'unused.sqlite3'}")

    assert "s3cret" not in str(raised.value)
