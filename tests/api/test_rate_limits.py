"""Rate limits per API user, one set of counters for the REST and the REDCap API: past its rate a
user's token gets 429 with Retry-After on both APIs; other users' tokens do not."""
from registry.models import Patient, Role
from tests import factories
from tests.redcap.client import RedcapClient

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


# One set of counters for both APIs (registry/api/throttling.py, registry/api/redcap/throttling.py).

def _rates(settings, api: str, bulk: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": api, "api_bulk": bulk}}


IMPORT_CSV = "record_id,sex,adv_dx_date\nP-9,1,2020-01-01\n"


def test_a_user_throttled_on_the_rest_api_is_refused_on_the_redcap_api_as_redcap_refuses(
    settings, client, coordinator_api,
):
    _rates(settings, "2/minute", "100/hour")
    redcap = RedcapClient(client)
    statuses = [coordinator_api.get("/api/v1/patients/").status_code for _ in range(2)]
    patients_before = Patient.objects.count()

    as_json = redcap(coordinator_api.secret, "version", format="json")
    as_csv = redcap(coordinator_api.secret, "record", format="csv", data=IMPORT_CSV)
    as_xml = redcap(coordinator_api.secret, "metadata")

    assert statuses == [200, 200]
    assert as_json.status == 429
    assert as_json.json()["error"].startswith("Too many API requests with this user's tokens: try again in ")
    assert 0 < int(as_json.response["Retry-After"]) <= 60
    assert (as_csv.status, as_csv.text[:47]) == (429, "ERROR: Too many API requests with this user's t")
    assert as_xml.status == 429
    assert as_xml.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<hash>\n  <error>Too many API requests')
    assert Patient.objects.count() == patients_before


def test_a_user_throttled_on_the_redcap_api_is_refused_on_the_rest_api(settings, client, coordinator_api):
    _rates(settings, "2/minute", "100/hour")
    redcap = RedcapClient(client)

    statuses = [redcap(coordinator_api.secret, "version").status for _ in range(2)]
    rest = coordinator_api.get("/api/v1/patients/")

    assert statuses == [200, 200]
    assert rest.status_code == 429
    assert int(rest["Retry-After"]) > 0


def test_a_redcap_record_import_uses_the_bulk_rate_of_the_rest_bulk_upsert(settings, client, coordinator_api):
    _rates(settings, "100/minute", "1/hour")
    redcap = RedcapClient(client)
    upsert = coordinator_api.post("/api/v1/records/", [{"record_id": "P-1", "sex": 1, "adv_dx_date": "2020-01-01"}],
                                  format="json")
    patients_before = Patient.objects.count()

    imported = redcap(coordinator_api.secret, "record", format="csv", type="flat", data=IMPORT_CSV)
    metadata = redcap(coordinator_api.secret, "metadata", format="json")

    assert upsert.status_code == 200
    assert imported.status == 429
    assert imported.text.startswith("ERROR: Too many API requests")
    assert Patient.objects.count() == patients_before == 1
    assert metadata.status == 200


def test_a_redcap_export_of_every_record_uses_the_bulk_rate_and_an_export_of_named_records_does_not(
    settings, client, coordinator_api, site_a,
):
    _rates(settings, "100/minute", "1/hour")
    factories.make_patient(site_a, "A-1")
    redcap = RedcapClient(client)

    everything = redcap(coordinator_api.secret, "record", format="json")
    everything_again = redcap(coordinator_api.secret, "record", format="json", filterLogic='[sex] = "1"')
    named = redcap.post([("token", coordinator_api.secret), ("content", "record"), ("format", "json"),
                         ("records[0]", "A-1")])
    upsert = coordinator_api.post("/api/v1/records/", [{"record_id": "P-1", "sex": 1, "adv_dx_date": "2020-01-01"}],
                                  format="json")

    assert everything.status == 200
    assert everything_again.status == 429
    assert named.status == 200
    assert [row["record_id"] for row in named.json()] == ["A-1"]
    assert upsert.status_code == 429
    assert not Patient.objects.filter(record_id="P-1").exists()


def test_a_redcap_record_deletion_uses_the_bulk_rate(settings, client, administrator_api, site_a):
    _rates(settings, "100/minute", "1/hour")
    factories.make_patient(site_a, "A-1")
    factories.make_patient(site_a, "A-2")
    redcap = RedcapClient(client)

    first = redcap.post([("token", administrator_api.secret), ("content", "record"), ("action", "delete"),
                         ("records[0]", "A-1")])
    second = redcap.post([("token", administrator_api.secret), ("content", "record"), ("action", "delete"),
                          ("records[0]", "A-2")])

    assert (first.status, first.text) == (200, "1")
    assert second.status == 429
    assert list(Patient.objects.values_list("record_id", flat=True)) == ["A-2"]


def test_every_token_of_one_user_shares_the_user_s_counters_and_another_user_keeps_their_own(
    settings, client, coordinator_a, site_a,
):
    _rates(settings, "2/minute", "100/hour")
    first_token, second_token = token_client(coordinator_a), token_client(coordinator_a)
    colleague = token_client(factories.make_user(role=Role.COORDINATOR, sites=[site_a]))
    redcap = RedcapClient(client)

    used = [first_token.get("/api/v1/patients/").status_code, redcap(first_token.secret, "version").status]
    second_on_rest = second_token.get("/api/v1/patients/")
    second_on_redcap = redcap(second_token.secret, "version")

    assert used == [200, 200]
    assert (second_on_rest.status_code, second_on_redcap.status) == (429, 429)
    assert colleague.get("/api/v1/patients/").status_code == 200
    assert redcap(colleague.secret, "version").status == 200


def test_an_unknown_token_on_the_redcap_api_is_refused_without_using_anyone_s_counters(
    settings, client, coordinator_api,
):
    _rates(settings, "2/minute", "100/hour")
    redcap = RedcapClient(client)

    unknown = [redcap("0" * 32, "version").status for _ in range(3)]
    known = [redcap(coordinator_api.secret, "version").status for _ in range(2)]

    assert unknown == [401, 401, 401]
    assert known == [200, 200]
