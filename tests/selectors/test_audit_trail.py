"""The audit trail across patients, as both APIs' audit endpoints read it: scope, time, user."""
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Role
from registry.selectors.audit_trail import audit_trail
from registry.services.locks import record_lock, record_sign, record_unlock
from registry.services.queries import query_close, query_open
from tests import factories

pytestmark = pytest.mark.django_db


def _edit_ecog(line, value: int, user, reason: str = "api: token 1A2B3C4D") -> None:
    line.line_ecog = value
    line._history_user = user
    line._change_reason = reason
    line.save()


def test_a_coordinator_reads_the_changes_of_their_sites_patients_only(site_a, site_b, coordinator_a):
    own = factories.make_patient(site_a, "P-A")
    factories.make_patient(site_b, "P-B")

    entries = audit_trail(user=coordinator_a)

    assert {entry.record_id for entry in entries} == {"P-A"}
    assert {entry.record_id for entry in audit_trail()} == {"P-A", "P-B"}  # the system sees every site
    assert own.pk  # (the patient whose creation is listed)


def test_a_deleted_patients_changes_are_found_by_its_record_id(site_a):
    patient = factories.make_patient(site_a, "P-GONE")
    patient.delete()

    entries = audit_trail(record_ids=["P-GONE"])

    assert [(entry.record_id, entry.action) for entry in entries] == [("P-GONE", "deleted"), ("P-GONE", "created")]


def test_a_time_window_lists_its_changes_with_their_diffs_against_the_change_before(site_a, coordinator_a):
    patient = factories.make_patient(site_a, "P-1")
    line = factories.make_line(patient, line_no=1, line_ecog=0)
    _edit_ecog(line, 1, coordinator_a)
    since = timezone.now()
    _edit_ecog(line, 2, coordinator_a)

    entries = audit_trail(record_ids=["P-1"], since=since)

    # Only the change made after `since`; its diff still reads the value before it (1), from the row
    # read only for that purpose.
    assert [(e.instrument, e.action, [(c.field, c.old, c.new) for c in e.changes]) for e in entries] == [
        ("treatment_line", "changed", [("line_ecog", "1 (1)", "2 (2)")])]
    assert entries[0].door == "api: token 1A2B3C4D" and entries[0].user == "coordinator_a"
    assert audit_trail(record_ids=["P-1"], until=since - timedelta(days=365)) == []


def test_changes_by_one_user_only(site_a, coordinator_a):
    other = factories.make_user("coordinator_z", role=Role.COORDINATOR, sites=[site_a])
    line = factories.make_line(factories.make_patient(site_a, "P-1"), line_no=1, line_ecog=0)
    _edit_ecog(line, 1, coordinator_a)
    _edit_ecog(line, 2, other)

    entries = audit_trail(changed_by="coordinator_z")

    assert [(e.user, [(c.old, c.new) for c in e.changes]) for e in entries] == [("coordinator_z", [("1 (1)", "2 (2)")])]


def test_the_audit_trail_costs_thirteen_queries_however_many_patients(site_a, django_assert_num_queries):
    data_manager = factories.make_user("data_manager", role=Role.DATA_MANAGER)
    for number in range(3):
        patient = factories.make_full_patient(site_a, f"P-{number}")
        # each with a lock, an unlock, a lock, a signature and a query with two messages, by users
        # of their own (the users are read with the rows, never one by one)
        record_lock(patient=patient, user=data_manager)
        record_unlock(patient=patient, user=data_manager, reason="a late result")
        record_lock(patient=patient, user=data_manager)
        record_sign(patient=patient, user=data_manager, password="pw-for-tests-only")
        query = query_open(patient=patient, user=data_manager, text="Consent on file?")
        query_close(query=query, user=data_manager)

    # the patients in scope with their record IDs, then one query per history table (8), then the
    # soft-check confirmations with their users, the locks' history rows with who locked and
    # unlocked, the signatures' history rows with the signer, the query messages with author and query
    with django_assert_num_queries(13):
        entries = audit_trail()

    assert {entry.record_id for entry in entries} == {"P-0", "P-1", "P-2"}
    # per patient: 2 locks, 1 unlock, 1 signature, 2 query messages
    assert sum(entry.action in ("locked", "unlocked", "signed", "query opened", "query closed")
               for entry in entries) == 3 * 6
