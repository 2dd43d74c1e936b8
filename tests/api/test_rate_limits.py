"""Rate limits per token: past its rate a token gets 429 with Retry-After; other tokens do not."""
from registry.models import Role
from tests import factories

from .conftest import token_client


def test_a_token_past_its_rate_gets_429_and_another_token_does_not(settings, coordinator_api, site_a):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/minute",
                                                                                     "api_bulk": "1/hour"}}
    other = token_client(factories.make_user(role=Role.COORDINATOR, sites=[site_a]))

    statuses = [coordinator_api.get("/api/v1/patients/").status_code for _ in range(3)]
    throttled = coordinator_api.get("/api/v1/patients/")

    assert statuses == [200, 200, 429]
    assert int(throttled["Retry-After"]) > 0
    assert "throttled" in throttled.json()["detail"]
    assert other.get("/api/v1/patients/").status_code == 200


def test_bulk_upserts_have_a_rate_of_their_own(settings, coordinator_api, site_a):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100/minute",
                                                                                     "api_bulk": "1/hour"}}
    record = [{"record_id": "P-1", "sex": 1, "adv_dx_date": "2020-01-01"}]

    first = coordinator_api.post("/api/v1/records/", record, format="json")
    second = coordinator_api.post("/api/v1/records/", record, format="json")

    assert (first.status_code, second.status_code) == (200, 429)
    assert coordinator_api.get("/api/v1/patients/").status_code == 200
