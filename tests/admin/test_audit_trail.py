"""The per-patient audit trail page: who changed what, through which door, old value → new value."""
from datetime import date

import pytest
from django.urls import reverse

from registry.selectors.audit_trail import patient_audit_trail
from tests import factories

from .admin_pages import change_url, form_data_of


def audit_url(patient) -> str:
    return reverse("admin:registry_patient_audit_trail", args=[patient.pk])


def test_the_patient_page_links_to_its_audit_trail(coordinator_client, site_a):
    patient = factories.make_patient(site_a)

    response = coordinator_client.get(change_url(patient))

    assert audit_url(patient) in response.content.decode()


def test_edits_of_a_patient_and_a_line_in_the_admin_appear_with_user_door_field_and_values(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a, vital=1)
    factories.make_line(patient, line_no=1, line_end=None)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    data.update({"vital": "2", "death_date": "2024-02-03", "treatment_lines-0-line_end": "2023-12-01",
                 "treatment_lines-0-line_end_reason": "1"})

    coordinator_client.post(change_url(patient), data)
    response = coordinator_client.get(audit_url(patient))

    assert response.status_code == 200
    newest = response.context["page_obj"].object_list[:2]
    by_instrument = {entry.instrument: entry for entry in newest}
    patient_entry, line_entry = by_instrument["vital_status"], by_instrument["treatment_line"]
    assert (patient_entry.user, patient_entry.door, patient_entry.action) == ("coordinator_a", "admin", "changed")
    assert [(c.field, c.label, c.old, c.new) for c in patient_entry.changes] == [
        ("vital", "Vital status", "Alive (1)", "Dead (2)"),
        ("death_date", "Date of death", "(blank)", "2024-02-03"),
    ]
    assert (line_entry.user, line_entry.door, line_entry.instance) == ("coordinator_a", "admin", 1)
    assert [(c.field, c.old, c.new) for c in line_entry.changes] == [
        ("line_end", "(blank)", "2023-12-01"),
        ("line_end_reason", "(blank)", "Progression (1)"),
    ]
    page = response.content.decode()
    assert "Vital status</span>: Alive (1) → Dead (2)" in page
    assert "coordinator_a" in page


def test_the_audit_trail_lists_creations_and_deletions_newest_first(site_a):
    patient = factories.make_patient(site_a)
    line = factories.make_line(patient)
    line._change_reason = "admin"
    line.delete()

    entries = patient_audit_trail(patient)

    assert [(entry.instrument, entry.action) for entry in entries] == [
        ("treatment_line", "deleted"), ("treatment_line", "created"), ("enrollment", "created"),
    ]
    assert entries[0].door == "admin"


def test_a_measurement_change_names_its_lesion_and_assessment_not_their_ids(site_a):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient, ta_date=date(2020, 3, 4))
    first, second = factories.make_lesion(patient, "L1-T1"), factories.make_lesion(patient, "L2-T1")
    measurement = factories.make_measurement(assessment, first)
    measurement.lesion = second
    measurement.save()

    newest = patient_audit_trail(patient)[0]

    assert (newest.instrument, newest.action) == ("lesion_measurement", "changed")
    assert [(c.field, c.old, c.new) for c in newest.changes] == [("lesion", "L1-T1", "L2-T1")]


# The audit trail page asks: 1. the session, 2. the user, 3. and 4. the user's role and sites,
# 5. the patient, 6. the patient's ids and record IDs in its history (its scope), 7. to 14. one
# query per history table (patient and the seven repeating instruments, each with its user
# joined), 15. the soft-check confirmations (with who confirmed), 16. the locks' history rows
# (with who locked and unlocked), 17. the signatures' history rows (with the signer), 18. the query
# messages (with their author and query), 19. and 20. the user's Django permissions (sidebar).
AUDIT_TRAIL_QUERIES = 20


@pytest.mark.parametrize("extra_lines", [1, 10])
def test_the_audit_trail_takes_the_same_number_of_queries_however_long_the_history(
    client, django_assert_num_queries, coordinator_a, site_a, extra_lines,
):
    patient = factories.make_full_patient(site_a)
    for line_no in range(2, extra_lines + 2):
        line = factories.make_line(patient, line_no=line_no)
        line.line_ecog = 1
        line.save()
    client.force_login(coordinator_a)

    with django_assert_num_queries(AUDIT_TRAIL_QUERIES):
        response = client.get(audit_url(patient))

    assert response.status_code == 200
    # One creation per instrument of the full patient, then each extra line created and changed.
    assert response.context["page_obj"].paginator.count == 8 + 2 * extra_lines
