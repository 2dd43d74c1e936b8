"""A soft check confirmed in the workspace is an entry of the audit trail: which value, what the check
asked, who confirmed it, when and through which door; on the admin's page, the REST audit endpoint and
the REDCap log alike."""
from datetime import date

import pytest
from django.urls import reverse

from registry.models import TumorAssessment
from registry.records.soft_checks import instance_soft_checks
from registry.selectors.audit_trail import CONFIRMED, audit_trail, patient_audit_trail
from registry.services.soft_checks import checks_unconfirmed, soft_checks_confirm
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(site_a, coordinator_a):
    """Patient P-C died 2023-05-10; its scan of 2023-06-01 was asked about and confirmed."""
    patient = factories.make_patient(site_a, "P-C", death_date=date(2023, 5, 10))
    scan = factories.make_assessment(patient, date(2023, 6, 1))
    checks = instance_soft_checks(scan, today=date(2024, 1, 1))
    soft_checks_confirm(patient=patient, checks=checks, user=coordinator_a, door="workspace")
    return patient, checks[0]


def test_a_confirmation_is_an_entry_with_the_value_the_check_and_who(confirmed):
    patient, check = confirmed

    entry = patient_audit_trail(patient)[0]

    assert (entry.action, entry.instrument, entry.instance, entry.user, entry.door, entry.record_id) == (
        CONFIRMED, "tumor_assessment", 1, "coordinator_a", "workspace", "P-C")
    assert [(c.field, c.label, c.new) for c in entry.changes] == [
        ("ta_date", "Date of this imaging time point (its first scan)", "2023-06-01")]
    assert entry.note == check.message
    assert "22 days after the patient's date of death (2023-05-10)" in entry.note  # 2023-05-10 + 22 days


def test_a_confirmed_value_is_no_longer_asked_about_and_a_changed_one_is(confirmed):
    patient, check = confirmed
    assert checks_unconfirmed([check], patient_id=patient.pk) == []

    moved = TumorAssessment.objects.get(patient=patient)
    moved.ta_date = date(2023, 6, 2)
    assert [c.value for c in checks_unconfirmed(instance_soft_checks(moved, today=date(2024, 1, 1)),
                                                patient_id=patient.pk)] == ["2023-06-02"]


def test_the_time_and_user_filters_apply_to_confirmations(confirmed):
    entries = audit_trail(record_ids=["P-C"], changed_by="coordinator_a")
    assert [entry.action for entry in entries] == [CONFIRMED]
    assert audit_trail(record_ids=["P-C"], until=entries[0].when) == [
        entry for entry in audit_trail(record_ids=["P-C"]) if entry.action != CONFIRMED]


def test_the_admins_audit_trail_page_shows_the_confirmation(client, coordinator_a, confirmed):
    patient, _ = confirmed
    client.force_login(coordinator_a)

    page = client.get(reverse("admin:registry_patient_audit_trail", args=[patient.pk])).content.decode()

    assert "confirmed as correct." in page
    assert "is 22 days after the patient&#x27;s date of death (2023-05-10)" in page


def test_the_rest_audit_endpoint_lists_the_confirmation(administrator, confirmed):
    from tests.api.conftest import token_client

    body = token_client(administrator).get("/api/v1/audit/?record=P-C").json()

    (entry,) = [e for e in body["results"] if e["action"] == CONFIRMED]
    assert (entry["instrument"], entry["instance"], entry["user"], entry["door"]) == (
        "tumor_assessment", 1, "coordinator_a", "workspace")
    assert entry["changes"][0]["new"] == "2023-06-01" and "date of death" in entry["note"]


def test_the_redcap_log_lists_the_confirmation(client, administrator, confirmed):
    from tests.redcap.conftest import make_token

    answer = client.post("/redcap/api/", {"token": make_token(administrator), "content": "log", "format": "json",
                                          "record": "P-C"})

    (row,) = [row for row in answer.json() if row["action"] == "Confirm value P-C"]
    assert row["details"].startswith("tumor_assessment [instance = 1]: ta_date = '2023-06-01' confirmed as correct")
    assert row["details"].endswith("(via workspace)")
