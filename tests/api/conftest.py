import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from registry.models import Role
from registry.services.api_tokens import api_token_create
from tests import factories


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Throttle counts live in the cache, which outlives a test: each test starts from none."""
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> APIClient:
    """A client sending `Authorization: Token <a new token of user>`; `client.token` is the ApiToken."""
    token, secret = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    client.token = token
    client.secret = secret
    return client


@pytest.fixture
def coordinator_api(coordinator_a):
    return token_client(coordinator_a)


@pytest.fixture
def administrator_api(administrator):
    return token_client(administrator)


@pytest.fixture
def investigator_api(db):
    return token_client(factories.make_user("investigator", role=Role.INVESTIGATOR))


@pytest.fixture
def viewer_api(site_a):
    return token_client(factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a]))
