import pytest

from registry.models import Role
from tests import factories


@pytest.fixture
def viewer_a(site_a):
    return factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a])


@pytest.fixture
def investigator(db):
    return factories.make_user("investigator", role=Role.INVESTIGATOR)


@pytest.fixture
def coordinator_client(client, coordinator_a):
    client.force_login(coordinator_a)
    return client
