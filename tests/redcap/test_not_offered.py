"""REDCap API methods the registry does not offer (files, PDFs, the project XML), and an import
without records: each is an error in REDCap's form, which PyCap raises where it reads one.

PyCap runs in-process here: its requests go through a transport adapter to Django's test client,
so these tests cost no server."""
import json

import pytest
import requests
from redcap import Project, RedcapError
from redcap import request as redcap_request

from tests import factories
from tests.api.api_helpers import database_state
from tests.redcap.conftest import make_token

URL = "http://testserver/redcap/api/"


class _DjangoTransport(requests.adapters.BaseAdapter):
    """Sends a requests POST to Django's test client and answers with what the view answered."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        answer = self.client.post("/redcap/api/", data=request.body, content_type=request.headers["Content-Type"])
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def pycap(client):
    redcap_request._session.mount("http://testserver/", _DjangoTransport(client))
    yield lambda user: Project(URL, make_token(user))
    redcap_request._session.adapters.pop("http://testserver/")


def test_pycap_raises_for_the_file_repository(pycap, administrator):
    project = pycap(administrator)

    with pytest.raises(RedcapError) as listed:
        project.export_file_repository()
    with pytest.raises(RedcapError) as created:
        project.create_folder_in_repository("scans")

    assert listed.value.args[0] == {"error": "The registry does not offer content=fileRepository of the REDCap API"}
    assert created.value.args[0] == listed.value.args[0]


def test_pycaps_export_pdf_gets_redcaps_json_error_and_no_file(pycap, administrator):
    # PyCap reads a PDF (and a file of the repository) as bytes without looking at them, whatever
    # the status: no answer can make it raise. What it returns is REDCap's error, with no file name.
    content, content_map = pycap(administrator).export_pdf()

    assert json.loads(content) == {"error": "The registry does not offer content=pdf of the REDCap API"}
    assert "name" not in content_map


@pytest.mark.parametrize(("content", "return_format", "body"), [
    ("pdf", "json", '{"error": "The registry does not offer content=pdf of the REDCap API"}'),
    ("file", "csv", "ERROR: The registry does not offer content=file of the REDCap API"),
    ("project_xml", "xml", '<?xml version="1.0" encoding="UTF-8" ?>\n<hash>\n  <error>The registry does not offer '
                           'content=project_xml of the REDCap API</error>\n</hash>'),
])
def test_methods_not_offered_answer_501_with_redcaps_error(redcap, admin_token, content, return_format, body):
    answer = redcap(admin_token, content, returnFormat=return_format, action="export")

    assert (answer.status, answer.text) == (501, body)


def test_an_import_with_an_empty_data_parameter_is_an_error_not_an_export(redcap, coordinator_token, site_a):
    factories.make_patient(site_a, "A-1")
    state = database_state()

    answer = redcap(coordinator_token, "record", format="json", type="flat", returnFormat="json", data="")
    as_csv = redcap(coordinator_token, "record", format="csv", returnFormat="csv", data="")

    assert (answer.status, answer.json()) == (400, {"error": (
        "The data being imported is not formatted correctly: the data parameter is empty, so there are no records "
        "to import")})
    assert (as_csv.status, as_csv.text) == (400, (
        "ERROR: The data being imported is not formatted correctly: the data parameter is empty, so there are no "
        "records to import"))
    assert database_state() == state


def test_an_empty_data_parameter_sent_as_multipart_is_an_error_too(client, coordinator_a, site_a):
    factories.make_patient(site_a, "A-1")

    answer = client.post("/redcap/api/", data={"token": make_token(coordinator_a), "content": "record",
                                                "format": "json", "returnFormat": "json", "data": ""})

    assert answer.status_code == 400
    assert json.loads(answer.content)["error"].startswith("The data being imported is not formatted correctly")


def test_a_design_export_with_an_empty_data_parameter_is_refused_as_an_import(redcap, admin_token):
    answer = redcap(admin_token, "metadata", format="json", data="")

    assert answer.status == 403
