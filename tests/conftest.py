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
def coordinator_a(site_a):
    return factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])


@pytest.fixture
def administrator(db):
    return factories.make_user("administrator", superuser=True)
