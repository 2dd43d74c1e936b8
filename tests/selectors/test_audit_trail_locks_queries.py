"""Locks, unlocks, e-signatures and query transitions in a record's audit trail: who, when (UTC),
what; read by the admin's audit trail page, the REST API's audit/ and REDCap's logging export."""
import pytest
from django.urls import reverse

from registry.models import Role
from registry.selectors.audit_trail import audit_trail
from registry.services.locks import SIGNATURE_MEANING, instance_lock, instance_unlock, record_lock, record_sign
from registry.services.queries import query_close, query_open, query_respond
from tests import factories
from tests.api.conftest import token_client
from tests.locked_records import make_data_manager

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"  # tests/factories.py make_user


def _events(entries):
    """Every entry that is not a change of the data itself, oldest first, as comparable tuples."""
    return [(e.action, e.user, e.record_id, e.instrument, e.instance, e.note,
             [(c.field, c.old, c.new) for c in e.changes])
            for e in reversed(entries) if e.action not in ("created", "changed", "deleted")]


@pytest.fixture
def a_record_locked_signed_and_queried(site_a, coordinator_a):
    """P-1 with treatment line 1: its line locked and unlocked, the record locked and signed, a query on
    the line's ECOG opened, answered and closed, in that order."""
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient, 1)
    data_manager = make_data_manager()
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)
    instance_lock(patient=patient, form="treatment_line", instance=1, user=data_manager)
    instance_unlock(patient=patient, form="treatment_line", instance=1, user=data_manager,
                    reason="ECOG read from the wrong visit")
    record_lock(patient=patient, user=data_manager)
    signature = record_sign(patient=patient, user=investigator, password=PASSWORD)
    query = query_open(patient=patient, user=data_manager, text="ECOG 3 at start?", form="treatment_line",
                       instance=1, field="line_ecog")
    query_respond(query=query, user=coordinator_a, text="Yes, checked in the notes.")
    query_close(query=query, user=data_manager)
    return patient, signature, query


def test_locks_unlocks_a_signature_and_a_query_s_transitions_are_in_the_trail_with_who_and_what(
        a_record_locked_signed_and_queried):
    patient, signature, query = a_record_locked_signed_and_queried

    entries = audit_trail(record_ids=["P-1"])

    # Worked out from the fixture's steps, in their order: the line's lock (instrument and instance),
    # its unlock (the reason as note), the whole-record lock (blank instrument), the signature (its
    # meaning and hash), then the query's three messages: opened (no state before), responded
    # (Open → Responded), closed (Responded → Closed, no text).
    on_line = f"query {query.pk} on P-1 treatment_line #1 line_ecog"
    assert _events(entries) == [
        ("locked", "data_manager", "P-1", "treatment_line", 1, "", []),
        ("unlocked", "data_manager", "P-1", "treatment_line", 1, "ECOG read from the wrong visit", []),
        ("locked", "data_manager", "P-1", "", None, "the whole record", []),
        ("signed", "investigator", "P-1", "", None,
         f"{SIGNATURE_MEANING} (content SHA-256 {signature.content_hash})", []),
        ("query opened", "data_manager", "P-1", "treatment_line", 1, f"{on_line}: ECOG 3 at start?", []),
        ("query responded", "coordinator_a", "P-1", "treatment_line", 1, f"{on_line}: Yes, checked in the notes.",
         [("query_state", "Open", "Responded")]),
        ("query closed", "data_manager", "P-1", "treatment_line", 1, on_line,
         [("query_state", "Responded", "Closed")]),
    ]
    # Times are the events' own, in UTC: the signature's entry is when it was signed.
    [signed] = [entry for entry in entries if entry.action == "signed"]
    assert signed.when == signature.signed_at and signed.when.utcoffset().total_seconds() == 0


def test_a_time_window_lists_a_query_s_state_change_against_the_message_before_it(
        a_record_locked_signed_and_queried):
    patient, _, query = a_record_locked_signed_and_queried
    closed_at = query.messages.get(transition="close").created_at

    entries = audit_trail(record_ids=["P-1"], since=closed_at)

    # Only the close is in the window; its state before (Responded) comes from the answer before it.
    assert [(e.action, [(c.old, c.new) for c in e.changes]) for e in entries] == [
        ("query closed", [("Responded", "Closed")])]


def test_events_by_one_user_only(a_record_locked_signed_and_queried):
    entries = audit_trail(record_ids=["P-1"], changed_by="coordinator_a")

    assert [e.action for e in entries] == ["query responded"]


def test_the_events_outlive_the_deleted_record(a_record_locked_signed_and_queried, administrator):
    patient, _, _ = a_record_locked_signed_and_queried
    # the lock rows go with the record (CASCADE); their history rows and the signature's stay
    patient.locks.all().delete()
    patient.delete()

    actions = [e.action for e in reversed(audit_trail(record_ids=["P-1"]))]

    # the query and its messages go with the record (CASCADE): what stays are the history tables' rows
    assert [a for a in actions if a not in ("created", "deleted")] == ["locked", "unlocked", "locked", "signed"]


def test_the_admin_page_and_the_rest_api_show_the_events(a_record_locked_signed_and_queried, client, administrator):
    patient, _, _ = a_record_locked_signed_and_queried
    client.force_login(administrator)

    page = client.get(reverse("admin:registry_patient_audit_trail", args=[patient.pk])).content.decode()
    api = token_client(administrator).get("/api/v1/audit/", {"record": "P-1"}).json()

    assert "Reason: ECOG read from the wrong visit" in page
    assert "query state</span>: Responded → Closed" in page
    by_action = {entry["action"]: entry for entry in api["results"]}
    assert by_action["unlocked"]["note"] == "ECOG read from the wrong visit"
    assert by_action["unlocked"]["user"] == "data_manager"
    assert by_action["query responded"]["changes"] == [
        {"field": "query_state", "label": "query state", "old": "Open", "new": "Responded"}]


def test_redcap_s_log_lists_locks_and_signatures_as_record_locking_and_queries_as_data_resolution(
        a_record_locked_signed_and_queried, client, administrator):
    from tests.redcap.client import RedcapClient
    from tests.redcap.conftest import make_token
    redcap, token = RedcapClient(client), make_token(administrator)

    locking = redcap(token, "log", format="json", logtype="lock_record").json()
    everything = [entry["action"] for entry in redcap(token, "log", format="json", record="P-1").json()]

    # REDCap's logtype "lock_record" (record locking & e-signatures): the two locks, the unlock and the
    # signature, newest first; the unlock's details carry its instrument, instance and reason.
    assert [entry["action"] for entry in locking] == [
        "E-signature record P-1", "Lock record P-1", "Unlock record P-1", "Lock record P-1"]
    assert locking[2]["details"] == "treatment_line [instance = 1]: ECOG read from the wrong visit"
    assert everything[:3] == ["Data resolution: query closed P-1", "Data resolution: query responded P-1",
                              "Data resolution: query opened P-1"]
