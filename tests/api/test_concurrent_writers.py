"""Two coordinators sending a change to the same record with the same If-Match at the same moment:
exactly one wins, the other gets 412, and nothing is overwritten silently (PostgreSQL row locks)."""
import time

import pytest

from registry.models import Patient, Role
from registry.services import record_writes
from registry.services.patient_versions import current_versions
from tests import factories
from tests.concurrency import postgresql_only, race  # noqa: F401 (postgresql_only: an autouse fixture)

from .conftest import token_client

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def slowed_import(monkeypatch, seconds: float = 0.5) -> None:
    """Each write waits inside its transaction, after the version check: without the row lock, the
    second writer would check the same version meanwhile and both would win."""
    real = record_writes.records_import

    def slow(**arguments):
        time.sleep(seconds)
        return real(**arguments)

    monkeypatch.setattr(record_writes, "records_import", slow)


def test_of_two_racing_updates_with_the_same_version_exactly_one_wins(monkeypatch):
    site = factories.make_site("site-a")
    patient = factories.make_full_patient(site, "P-A")
    first = token_client(factories.make_user("first", role=Role.COORDINATOR, sites=[site]))
    second = token_client(factories.make_user("second", role=Role.COORDINATOR, sites=[site]))
    version = f'"{current_versions([patient.id])[patient.id]}"'
    slowed_import(monkeypatch)

    answers = race([
        lambda: first.patch("/api/v1/patients/P-A/", {"mrn": "first"}, format="json", HTTP_IF_MATCH=version),
        lambda: second.patch("/api/v1/patients/P-A/", {"mrn": "second"}, format="json", HTTP_IF_MATCH=version),
    ])

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 412]
    winner = next(answer for answer in answers if answer.status_code == 200)
    assert Patient.objects.get(pk=patient.pk).mrn == winner.json()["mrn"]
    assert current_versions([patient.id])[patient.id] == f"{patient.id}.2"


def test_racing_writes_to_two_instances_of_one_record_are_serialised_too(monkeypatch):
    site = factories.make_site("site-a")
    patient = factories.make_full_patient(site, "P-A")
    first = token_client(factories.make_user("first", role=Role.COORDINATOR, sites=[site]))
    second = token_client(factories.make_user("second", role=Role.COORDINATOR, sites=[site]))
    version = f'"{current_versions([patient.id])[patient.id]}"'
    slowed_import(monkeypatch)

    answers = race([
        lambda: first.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 1}, format="json",
                            HTTP_IF_MATCH=version),
        lambda: second.patch("/api/v1/patients/P-A/biopsy/1/", {"bx_adequate": 1}, format="json",
                             HTTP_IF_MATCH=version),
    ])

    assert sorted(answer.status_code for answer in answers) == [200, 412]
