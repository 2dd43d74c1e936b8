"""Test databases copied from a migrated template instead of migrated one by one.

Running the project's migrations takes most of a test database's creation (about 15 s of CPU: Django
renders the model states of 27 migrations), and a full `scripts/test` creates eight of them (two
pytest-xdist workers for each database's suite, two for the browser tests, one per fuzz run). So
scripts/test migrates one template per database first, and each test database starts as its copy:

- PostgreSQL: REGISTRY_TEST_POSTGRES_TEMPLATE names a migrated database; config/settings/test.py makes
  it the test database's TEMPLATE, so PostgreSQL itself copies it (CREATE DATABASE ... TEMPLATE).
- SQLite: REGISTRY_TEST_SQLITE_TEMPLATE names a migrated database file; `install()` makes Django's
  in-memory test database start as its copy (sqlite3's backup API).

Django then runs `migrate` on the copy as usual: with every migration recorded as applied it has
nothing to do, and a migration the template lacks would still be applied. Without these variables
(pytest run by hand) every test database is migrated as before. scripts/test builds the templates
afresh on every run, so a template is never older than the migrations.
"""
from __future__ import annotations

import os
import sqlite3

SQLITE_TEMPLATE_VARIABLE = "REGISTRY_TEST_SQLITE_TEMPLATE"


def install() -> None:
    """With REGISTRY_TEST_SQLITE_TEMPLATE set, in-memory SQLite test databases start as its copy."""
    template = os.environ.get(SQLITE_TEMPLATE_VARIABLE)
    if not template:
        return
    if not os.path.isfile(template):
        raise RuntimeError(f"{SQLITE_TEMPLATE_VARIABLE}={template}: no such database file")
    from django.db.backends.sqlite3.creation import DatabaseCreation

    if getattr(DatabaseCreation, "_registry_template", None):
        return
    original = DatabaseCreation._create_test_db

    def create_from_template(self, verbosity=1, autoclobber=False, keepdb=False):
        name = original(self, verbosity, autoclobber, keepdb)
        if self.is_in_memory_db(name):
            # Opened now, it stays open: Django never closes an in-memory database's connection (that
            # would drop the database), so create_test_db's migrate finds the copy.
            self.connection.settings_dict["NAME"] = name
            self.connection.ensure_connection()
            source = sqlite3.connect(template)
            try:
                source.backup(self.connection.connection)
            finally:
                source.close()
        return name

    DatabaseCreation._create_test_db = create_from_template
    DatabaseCreation._registry_template = template
