"""The admin refuses to change or delete locked data, naming the lock, and writes nothing."""
from django.urls import reverse

from registry.models import Patient, TreatmentLine
from tests.admin.admin_pages import change_url, changelist_url, delete_url, form_data_of
from tests.locked_records import locked_record, snapshot, whole_record_refusal

REFUSED = f"Nothing was written: {whole_record_refusal()}. A data manager may unlock it, giving a reason."


def test_a_locked_record_refuses_changes_and_deletions_in_the_admin(client, administrator, site_a):
    patient = locked_record(site_a)
    line = TreatmentLine.objects.get(patient=patient, redcap_repeat_instance=2)
    client.force_login(administrator)
    before = snapshot()

    patient_data = form_data_of(client.get(change_url(patient)))
    patient_data["mrn"] = "MRN-2"
    changed = client.post(change_url(patient), patient_data)
    line_data = form_data_of(client.get(change_url(line)))
    line_data["line_ecog"] = "3"
    line_changed = client.post(change_url(line), line_data)
    line_deleted = client.post(delete_url(line), {"post": "yes"})
    patient_deleted = client.post(delete_url(patient), {"post": "yes"})
    bulk_deleted = client.post(changelist_url(TreatmentLine), {
        "action": "delete_selected", "_selected_action": [line.pk], "post": "yes"})
    add_url = reverse("admin:registry_treatmentline_add")
    new_line = form_data_of(client.get(add_url))
    new_line.update(patient=str(patient.pk), line_no="3", line_type="1", line_drug="2", line_start="2022-01-01")
    added = client.post(add_url, new_line)

    # The change pages are shown again with the lock named above the form; deletions are forbidden.
    for page in (changed, line_changed, added):
        assert page.status_code == 200
        assert page.context["adminform"].form.non_field_errors() == [REFUSED]
    for page in (line_deleted, patient_deleted, bulk_deleted):
        assert page.status_code == 403
    assert snapshot() == before
    assert Patient.objects.get().mrn == "MRN-1"
