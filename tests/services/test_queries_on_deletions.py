"""An instance or record deleted with queries waiting on it: its open and responded queries are
closed by the system, with a message saying what was deleted, by whom and why (every door that
deletes goes through instances.py, record_writes.py or records.py)."""
from datetime import date

import pytest
from django.urls import reverse

from registry.models import Query, QueryState
from registry.services.instances import instance_delete
from registry.services.locks import RecordLocked, instance_lock
from registry.services.patient_versions import current_versions
from registry.services.queries import query_close, query_open, query_respond
from registry.services.records import records_delete
from tests import factories
from tests.api.api_helpers import if_match
from tests.api.conftest import token_client
from tests.locked_records import make_data_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def queried(site_a, coordinator_a):
    """P-1 with treatment lines 1 and 2, and queries by a data manager: on line 2's ECOG (open), on line 2
    (responded), on line 2 (closed), on line 1 (open) and on the record (open)."""
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient, 1)
    factories.make_line(patient, 2, line_start=date(2021, 6, 1))
    data_manager = make_data_manager()

    def ask(text, **target):
        return query_open(patient=patient, user=data_manager, text=text, **target)

    queries = {
        "field": ask("ECOG?", form="treatment_line", instance=2, field="line_ecog"),
        "responded": ask("Start date?", form="treatment_line", instance=2),
        "closed": ask("Drug?", form="treatment_line", instance=2),
        "other line": ask("End?", form="treatment_line", instance=1),
        "record": ask("Consent on file?"),
    }
    query_respond(query=queries["responded"], user=coordinator_a, text="Checked.")
    query_close(query=queries["closed"], user=data_manager)
    return patient, queries


def _states(queries) -> dict[str, str]:
    return {name: Query.objects.get(pk=query.pk).state for name, query in queries.items()}


def _last_message(query):
    return Query.objects.get(pk=query.pk).messages.order_by("created_at", "id").last()


def test_the_workspace_s_deletion_of_a_line_closes_its_open_and_responded_queries_saying_who_and_why(
        client, queried, coordinator_a):
    patient, queries = queried
    client.force_login(coordinator_a)

    response = client.post(reverse("workspace:instance_delete", args=["P-1", "treatment_line", 2]),
                           {"reason": "Entered twice", "record_version": current_versions([patient.pk])[patient.pk]})

    assert response.status_code == 302
    # Line 2's field query and instance query close; the closed one, line 1's and the record's stay.
    assert _states(queries) == {"field": "closed", "responded": "closed", "closed": "closed",
                                "other line": "open", "record": "open"}
    # The workspace's door is "workspace: <the reason asked for>" (views/record_home.py).
    for name in ("field", "responded"):
        message = _last_message(queries[name])
        assert (message.transition, message.state_after, message.author) == ("close", "closed", coordinator_a)
        assert message.text == ("Closed by the system: treatment_line 2 of record P-1 was deleted by coordinator_a "
                                "(workspace: Entered twice).")
    assert Query.history.filter(id=queries["field"].pk).latest("history_id").history_user == coordinator_a
    assert _last_message(queries["closed"]).text == ""  # the data manager's own close, untouched


def test_the_rest_api_s_deletion_of_a_line_closes_its_queries_and_the_api_shows_why(queried, administrator):
    patient, queries = queried
    api = token_client(administrator)

    response = api.delete("/api/v1/patients/P-1/treatment_line/2/", **if_match(api, "P-1"))

    assert response.status_code == 204
    assert _states(queries)["field"] == _states(queries)["responded"] == "closed"
    assert _states(queries)["other line"] == "open"
    answer = api.get(f"/api/v1/queries/{queries['field'].pk}/").json()
    assert answer["state"] == "closed"
    last = answer["messages"][-1]
    assert last["text"].startswith(
        "Closed by the system: treatment_line 2 of record P-1 was deleted by administrator (api")


def test_the_admin_s_deletion_of_a_scan_closes_the_queries_on_the_measurements_it_takes_with_it(
        site_a, administrator):
    patient = factories.make_patient(site_a, "P-1")
    assessment = factories.make_assessment(patient, date(2024, 3, 1))
    factories.make_measurement(assessment, factories.make_lesion(patient, "L1-T1"))
    query = query_open(patient=patient, user=make_data_manager(), text="20 mm?", form="lesion_measurement",
                       instance=1, field="lm_mm")

    instance_delete(instance=assessment, user=administrator, door="admin")

    assert Query.objects.get(pk=query.pk).state == QueryState.CLOSED
    assert _last_message(query).text == ("Closed by the system: lesion_measurement 1 (with tumor_assessment 1) of "
                                         "record P-1 was deleted by administrator (admin).")


def test_a_deletion_refused_by_a_lock_closes_nothing(queried, administrator):
    patient, queries = queried
    instance_lock(patient=patient, form="treatment_line", instance=2, user=make_data_manager("dm2"))
    line = patient.treatment_lines.get(redcap_repeat_instance=2)
    messages_before = {name: query.messages.count() for name, query in queries.items()}

    with pytest.raises(RecordLocked):
        instance_delete(instance=line, user=administrator, door="admin")

    assert _states(queries)["field"] == "open" and _states(queries)["responded"] == "responded"
    assert {name: query.messages.count() for name, query in queries.items()} == messages_before
    assert not Query.history.filter(history_change_reason__startswith="closed: deleted").exists()


def test_a_deleted_record_s_queries_are_closed_in_their_history_before_they_go_with_it(queried, administrator):
    patient, queries = queried

    records_delete(record_ids=["P-1"], user=administrator, door="redcap api: token 1A2B3C4D")

    assert not Query.objects.exists()  # the queries go with the record (CASCADE)
    # Each query still open or responded was closed first: its history's close, then its deletion.
    closes = Query.history.filter(history_change_reason="closed: deleted (redcap api: token 1A2B3C4D)")
    assert sorted(row.id for row in closes) == sorted(
        queries[name].pk for name in ("field", "responded", "other line", "record"))
    assert {(row.state, row.history_user) for row in closes} == {("closed", administrator)}


def test_deleting_what_holds_no_queries_closes_none(queried, administrator):
    _, queries = queried
    other_site = factories.make_site("site-z")

    instance_delete(instance=other_site, user=administrator, door="admin")  # a site: no record, no query

    assert _states(queries)["record"] == "open" and _states(queries)["field"] == "open"
