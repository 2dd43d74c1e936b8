import pytest
from django.core.cache import cache

from registry.models import Role
from registry.services.api_tokens import api_token_create
from tests import factories
from tests.redcap.client import RedcapClient


@pytest.fixture
def redcap(client):
    """Posts REDCap API requests to /redcap/api/ the way PyCap does (form-encoded)."""
    return RedcapClient(client)


def make_token(user) -> str:
    _, secret = api_token_create(user=user, name="script")
    return secret


@pytest.fixture
def admin_token(administrator):
    return make_token(administrator)


@pytest.fixture
def coordinator_token(coordinator_a):
    return make_token(coordinator_a)


@pytest.fixture
def investigator(db):
    return factories.make_user("investigator", role=Role.INVESTIGATOR)


@pytest.fixture(scope="session")
def redcap_url(request, django_db_setup, tmp_path_factory):
    """The URL of a running registry's REDCap API (tests/redcap/live_server.py): a gunicorn process
    on PostgreSQL, the live server thread on SQLite. Tests using it need transactional_db."""
    from django.db import connection

    from tests.redcap.live_server import ServerProcess

    if connection.vendor != "postgresql":
        return request.getfixturevalue("live_server").url + "/redcap/api/"
    server = ServerProcess(tmp_path_factory.mktemp("redcap_server"))
    server.start()
    request.addfinalizer(server.stop)
    return server.url


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The API rate limits count in the cache, which outlives a test (and on SQLite a user's id comes
    back in the next test): each test starts from no requests counted."""
    cache.clear()
    yield
    cache.clear()
