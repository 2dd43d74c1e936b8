"""API tokens on requests: Token or Bearer, 401 for a missing, malformed, unknown or revoked token."""
import pytest
from rest_framework.test import APIClient

from registry.models import ApiToken
from registry.services.api_tokens import api_token_revoke
from tests import factories


def test_a_request_without_a_token_is_a_401_with_the_scheme_to_use(db):
    response = APIClient().get("/api/v1/patients/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("header", ["Token", "Token abc def", "Token 0123456789abcdef0123456789abcdeZ",
                                    "Bearer 00000000000000000000000000000000", "Token \u00e9\u00e9"])
def test_a_malformed_or_unknown_token_is_a_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/v1/patients/").status_code == 401


def test_a_bearer_token_is_accepted_and_its_use_recorded(coordinator_api, site_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {coordinator_api.secret.lower()}")

    response = client.get("/api/v1/patients/")

    assert response.status_code == 200
    assert ApiToken.objects.get(pk=coordinator_api.token.pk).last_used_at is not None


def test_a_revoked_token_is_refused_at_once(coordinator_api, site_a):
    api_token_revoke(token=coordinator_api.token)

    assert coordinator_api.get("/api/v1/patients/").status_code == 401


def test_a_token_of_a_user_without_a_role_is_a_403(db):
    from .conftest import token_client

    response = token_client(factories.make_user()).get("/api/v1/patients/")

    assert response.status_code == 403
    assert "no registry role" in response.json()["detail"]


def test_the_schema_and_the_docs_need_no_token(db):
    client = APIClient()

    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200
