"""The same new record created at the same moment through the REST API and the REDCap import
(PostgreSQL, two threads, each with its own connection): both check before either commits, the
unique index lets the first insert through, and the other is refused in its door's form (409 on
REST, REDCap's 400 on the REDCap API), never a 500, with nothing of it written."""
import json
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from registry.models import Patient, Role
from registry.records.flat_import import FlatImport
from tests import factories
from tests.redcap.conftest import make_token

from .conftest import token_client
from tests.concurrency import postgresql_only, race  # noqa: F401 (postgresql_only: an autouse fixture)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

REST_LOST = ("A record with the ID {record} exists already (record IDs are unique in the registry, ignoring letter "
             "case); nothing was written.")
REDCAP_LOST = ('"","record_id","","names a record that another request created at the same time (record IDs are '
               'unique in the registry); nothing was written: send the records again"')


def slowed_record_rows(monkeypatch, seconds: float = 0.5) -> None:
    """Each import waits after inserting its patients, before its commit: the other writer checks
    meanwhile, sees no such record, and its insert then meets the unique index."""
    real = FlatImport._flush_record_rows

    def slow(self, rows):
        real(self, rows)
        time.sleep(seconds)

    monkeypatch.setattr(FlatImport, "_flush_record_rows", slow)


def later(request, seconds: float = 0.2):
    """The request, a moment after the other one started: while that one holds its inserted,
    uncommitted patient (slowed_record_rows), so this one checks, finds nothing, and inserts too."""
    def run():
        time.sleep(seconds)
        return request()
    return run


@pytest.mark.parametrize("winner", ["rest", "redcap"])
@pytest.mark.parametrize(("rest_id", "redcap_id"), [("DUP-1", "DUP-1"), ("DUP-1", "dup-1")])
def test_of_two_racing_creates_of_one_record_the_first_wins_and_the_other_is_refused_cleanly(
    monkeypatch, rest_id, redcap_id, winner,
):
    site = factories.make_site("site-a")
    rest = token_client(factories.make_user("rest", role=Role.COORDINATOR, sites=[site]))
    redcap_token = make_token(factories.make_user("redcap", role=Role.COORDINATOR, sites=[site]))
    slowed_record_rows(monkeypatch)

    def by_rest():
        return rest.post("/api/v1/patients/", {"record_id": rest_id, "sex": 1, "adv_dx_date": "2021-01-01",
                                               "mrn": "REST"}, format="json")

    def by_redcap():
        body = urlencode({"token": redcap_token, "content": "record", "format": "csv", "returnFormat": "json",
                          "data": f"record_id,sex,adv_dx_date,mrn\n{redcap_id},1,2021-01-01,REDCAP\n"})
        return Client().post("/redcap/api/", data=body, content_type="application/x-www-form-urlencoded")

    rest_answer, redcap_answer = race([by_rest, later(by_redcap)] if winner == "rest" else [later(by_rest), by_redcap])

    stored = Patient.objects.get()
    if winner == "rest":
        assert (rest_answer.status_code, redcap_answer.status_code) == (201, 400)
        assert json.loads(redcap_answer.content) == {"error": REDCAP_LOST}
        assert (stored.record_id, stored.mrn) == (rest_id, "REST")
    else:
        assert (rest_answer.status_code, redcap_answer.status_code) == (409, 200)
        assert rest_answer.json() == {"detail": REST_LOST.format(record=rest_id)}
        assert (stored.record_id, stored.mrn) == (redcap_id, "REDCAP")
    assert Patient.history.count() == 1
