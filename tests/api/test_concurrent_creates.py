"""The same new record created at the same moment through the REST API and the REDCap import
(PostgreSQL, two threads, each with its own connection): both check before either commits, the
unique index lets the first insert through, and the other is refused in its door's form (409 on
REST, REDCap's 400 on the REDCap API), never a 500, with nothing of it written."""
import json
import threading
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


class Turns:
    """Orders the two writers by events, not by guessed delays (a cold first request, importing its
    modules, once took longer than a fixed head start): the first writer inserts its patient and
    waits, uncommitted, until the second has started writing its own record rows; the second starts
    only once the first has inserted. It then checks, finds nothing committed, and its insert meets
    the unique index, which waits for the first writer's commit."""

    def __init__(self):
        self.inserted = threading.Event()
        self.second_writing = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    def slow_record_rows(self, monkeypatch) -> None:
        real = FlatImport._flush_record_rows
        turns = self

        def ordered(self, rows):
            with turns.lock:
                turns.calls += 1
                first = turns.calls == 1
            if first:
                real(self, rows)
                turns.inserted.set()
                assert turns.second_writing.wait(timeout=20), "the second writer never started writing"
                time.sleep(0.3)  # while the second one checks and inserts
            else:
                turns.second_writing.set()
                real(self, rows)

        monkeypatch.setattr(FlatImport, "_flush_record_rows", ordered)

    def after_first_insert(self, request):
        def run():
            assert self.inserted.wait(timeout=20), "the first writer never inserted"
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
    turns = Turns()
    turns.slow_record_rows(monkeypatch)

    def by_rest():
        return rest.post("/api/v1/patients/", {"record_id": rest_id, "sex": 1, "adv_dx_date": "2021-01-01",
                                               "mrn": "REST"}, format="json")

    def by_redcap():
        body = urlencode({"token": redcap_token, "content": "record", "format": "csv", "returnFormat": "json",
                          "data": f"record_id,sex,adv_dx_date,mrn\n{redcap_id},1,2021-01-01,REDCAP\n"})
        return Client().post("/redcap/api/", data=body, content_type="application/x-www-form-urlencoded")

    rest_answer, redcap_answer = race(
        [by_rest, turns.after_first_insert(by_redcap)] if winner == "rest"
        else [turns.after_first_insert(by_rest), by_redcap]
    )

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
