import pytest

from registry.models import Role
from tests import factories


@pytest.fixture
def site_a(db):
    return factories.make_site("site-a", "Hospital A")


@pytest.fixture
def site_b(db):
    return factories.make_site("site-b", "Hospital B")


@pytest.fixture
def alive_patients(site_a):
    """Patients P-1 and P-2 of site A, alive: what the malformed files of tests/records/malformed_csv.py
    would change."""
    factories.make_patient(site_a, "P-1", vital=1)
    factories.make_patient(site_a, "P-2", vital=1)


@pytest.fixture
def coordinator_a(site_a):
    return factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])


@pytest.fixture
def administrator(db):
    return factories.make_user("administrator", superuser=True)
