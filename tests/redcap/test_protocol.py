"""The REDCap API protocol: one POST endpoint, form-encoded parameters, errors in REDCap's shape."""
import io
from urllib.parse import urlencode

import pytest

from registry.api.redcap import parameters as parameters_module
from registry.api.redcap.parameters import Parameters, read_parameters
from registry.models import Patient
from registry.services.api_tokens import api_token_create, api_token_revoke
from tests import factories
from tests.redcap.client import URL
from tests.redcap.conftest import make_token


class _Body:
    """A request body read in chunks, as WSGI gives it."""

    content_type = "application/x-www-form-urlencoded"

    def __init__(self, body: bytes):
        self.stream = io.BytesIO(body)

    def read(self, size: int) -> bytes:
        return self.stream.read(size)


def _parsed(body: str, chunk_bytes: int = 3) -> Parameters:
    original = parameters_module.CHUNK_BYTES
    parameters_module.CHUNK_BYTES = chunk_bytes
    try:
        return read_parameters(_Body(body.encode()))
    finally:
        parameters_module.CHUNK_BYTES = original


def test_form_parameters_are_read_whole_even_when_escapes_fall_across_chunks():
    body = urlencode({"token": "ABC", "filterLogic": '[sex] = "2" and [mrn] <> "é&x"', "data": "a,b\n1,é\n"})

    for chunk_bytes in (1, 2, 3, 7, 64 * 1024):
        parameters = _parsed(body, chunk_bytes)
        assert parameters.get("token") == "ABC"
        assert parameters.get("filterLogic") == '[sex] = "2" and [mrn] <> "é&x"'
        assert parameters.data.read().decode() == "a,b\n1,é\n"


def test_arrays_come_indexed_bracketed_or_comma_separated():
    indexed = _parsed("fields%5B1%5D=b&fields%5B0%5D=a&fields%5B10%5D=k&fields%5B2%5D=c")
    bracketed = _parsed("fields[]=a&fields[]=b")
    separated = _parsed("fields=a,%20b,,c")

    assert indexed.array("fields") == ["a", "b", "c", "k"]
    assert bracketed.array("fields") == ["a", "b"]
    assert separated.array("fields") == ["a", "b", "c"]
    assert separated.array("records") == []


def test_flags_read_true_false_and_pythons_spelling():
    parameters = _parsed("a=true&b=False&c=1&d=&e=maybe")

    assert [parameters.flag(name) for name in "abcd"] == [True, False, True, False]
    with pytest.raises(parameters_module.ApiError):
        parameters.flag("e")


def test_a_parameter_other_than_data_may_not_exceed_its_limit(monkeypatch):
    monkeypatch.setattr(parameters_module, "MAX_VALUE_BYTES", 10)

    with pytest.raises(parameters_module.ApiError) as refused:
        _parsed("filterLogic=" + "x" * 11)

    assert refused.value.status == 413
    assert _parsed("data=" + "x" * 100).data.read() == b"x" * 100  # data goes to a file, not to memory


def test_multipart_requests_are_read_too(client, administrator):
    token = make_token(administrator)

    response = client.post(URL, {"token": token, "content": "version"})  # the test client sends multipart

    assert response.status_code == 200 and response.content == b"14.0.0"


@pytest.mark.parametrize(("parameters", "status", "body", "content_type"), [
    ({"content": "record", "format": "json"}, 401, '{"error": "API token was missing or incorrect"}',
     "application/json; charset=utf-8"),
    ({"content": "record", "format": "csv"}, 401, "ERROR: API token was missing or incorrect",
     "text/csv; charset=utf-8"),
    ({"content": "record", "format": "csv", "returnFormat": "json"}, 401,
     '{"error": "API token was missing or incorrect"}', "application/json; charset=utf-8"),
    ({"content": "version"}, 401,
     '<?xml version="1.0" encoding="UTF-8" ?>\n<hash>\n  <error>API token was missing or incorrect</error>\n</hash>',
     "text/xml; charset=utf-8"),
])
def test_errors_come_in_the_return_format_then_the_format_then_xml(redcap, db, parameters, status, body, content_type):
    answer = redcap.post(parameters)

    assert (answer.status, answer.text, answer.content_type) == (status, body, content_type)


def test_a_malformed_unknown_or_revoked_token_is_refused_alike(redcap, administrator):
    token, secret = api_token_create(user=administrator, name="old")
    api_token_revoke(token=token)

    for given in ("not-a-token", "0123456789ABCDEF0123456789ABCDEF", secret):
        answer = redcap(given, "version", format="json")
        assert (answer.status, answer.json()) == (401, {"error": "API token was missing or incorrect"})


def test_a_token_of_a_user_without_a_registry_role_may_not_use_the_api(redcap, db):
    nobody = factories.make_user("nobody")

    answer = redcap(make_token(nobody), "metadata", format="json")

    assert (answer.status, answer.json()) == (403, {"error": "You do not have permissions to use the API"})


def test_content_is_checked_after_the_token(redcap, admin_token):
    assert redcap(admin_token, "", format="json").json() == {"error": 'The parameter "content" is missing'}
    assert redcap(admin_token, "surveys", format="json").status == 400
    answer = redcap(admin_token, "file", format="json")
    assert answer.status == 501 and "does not offer content=file" in answer.json()["error"]


def test_a_get_request_is_refused(client, db):
    response = client.get(URL)

    assert response.status_code == 405 and b"<error>The REDCap API takes POST requests only</error>" in response.content


def test_unknown_parameters_are_ignored(redcap, admin_token):
    answer = redcap(admin_token, "version", colour="blue", **{"fields[0]": "nothing"})

    assert (answer.status, answer.text) == (200, "14.0.0")


@pytest.mark.parametrize("content", ["event", "arm", "formEventMapping"])
def test_longitudinal_contents_answer_redcaps_classic_project_error(redcap, admin_token, content):
    answer = redcap(admin_token, content, format="json")

    assert answer.status == 400
    assert answer.json()["error"].startswith("You cannot export ") and answer.json()["error"].endswith(
        " for classic projects")


@pytest.mark.parametrize(("content", "extra"), [
    ("metadata", {"data": "[]"}), ("dag", {"action": "import", "data": "[]"}), ("dag", {"action": "delete"}),
    ("user", {"data": "[]"}), ("repeatingFormsEvents", {"data": "[]"}), ("project", {"data": "{}"}),
])
def test_the_projects_design_is_not_changed_through_the_api(redcap, admin_token, content, extra):
    answer = redcap(admin_token, content, format="json", **extra)

    assert answer.status == 403 and "not through the API" in answer.json()["error"]


def test_the_endpoint_needs_no_csrf_token(administrator):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, data=urlencode({"token": make_token(administrator), "content": "version"}),
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200


def test_an_investigator_reads_everything_and_writes_nothing(redcap, investigator, site_a):
    factories.make_patient(site_a, "P-1")
    token = make_token(investigator)

    assert redcap(token, "metadata", format="json").status == 200
    refused = redcap(token, "record", format="json", data='[{"record_id": "P-2"}]')
    assert (refused.status, refused.json()) == (403, {"error": "You do not have API Import/Update privileges"})
    assert redcap(token, "record", action="delete", format="json", **{"records[0]": "P-1"}).status == 403
    assert list(Patient.objects.values_list("record_id", flat=True)) == ["P-1"]


def test_a_blank_data_parameter_is_no_data():
    assert _parsed("content=record&data=").data is None
    assert _parsed("data=&content=record").data is None
