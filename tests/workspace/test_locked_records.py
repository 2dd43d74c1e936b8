"""The workspace: a locked record or instance is shown read-only with its lock named, refuses changes
and deletions (nothing written), and data managers lock, unlock and sign from the record's page."""
from django.urls import reverse

from registry.models import RecordLock, RecordSignature, TreatmentLine
from registry.services.locks import SIGNATURE_MEANING
from tests.locked_records import locked_record, make_data_manager, snapshot, whole_record_refusal
from tests.workspace.instrument_pages import instance_url, page_data, record_form_url, record_url

REFUSED = f"Nothing was written: {whole_record_refusal()}. A data manager may unlock it, giving a reason."


def test_a_locked_record_refuses_changes_and_deletions_in_the_workspace(client, coordinator_a, site_a):
    patient = locked_record(site_a)
    client.force_login(coordinator_a)
    before = snapshot()

    shown = client.get(instance_url(patient, "treatment_line", 2))
    changed = client.post(instance_url(patient, "treatment_line", 2),
                          page_data(patient, {"line_no": "2", "line_type": "1", "line_drug": "2",
                                              "line_start": "2021-06-01", "line_ecog": "3"}))
    added = client.post(instance_url(patient, "treatment_line"), page_data(patient, {
        "line_no": "3", "line_type": "1", "line_drug": "2", "line_start": "2022-01-01"}))
    enrolment = client.post(record_form_url(patient, "enrollment"), page_data(patient, {"mrn": "MRN-2"}))
    deleted = client.post(reverse("workspace:instance_delete", args=["P-1", "treatment_line", 2]),
                          {"reason": "duplicate", "record_version": ""})
    scan_added = client.post(reverse("workspace:scan_new", args=["P-1"]), {})

    # Shown read-only, the lock named; every write a 403 naming the lock (Django's 403 page shows it).
    assert shown.status_code == 200 and shown.context["read_only"]
    assert f"<strong>Locked:</strong> {whole_record_refusal()}. It is shown read-only." in shown.content.decode()
    for answer in (changed, added, enrolment, deleted, scan_added):
        assert answer.status_code == 403
    assert snapshot() == before
    home = client.get(record_url(patient)).content.decode()
    assert "Add a line" not in home and "Delete</a>" not in home
    assert f"<strong>Locked:</strong> {whole_record_refusal()}." in home


def test_an_instance_lock_makes_that_form_read_only_and_leaves_the_others_editable(client, coordinator_a, site_a):
    patient = locked_record(site_a, whole_record=False)  # treatment line 1
    client.force_login(coordinator_a)

    first = client.get(instance_url(patient, "treatment_line", 1))
    second = client.get(instance_url(patient, "treatment_line", 2))
    refused = client.post(instance_url(patient, "treatment_line", 1), page_data(patient, {
        "line_no": "1", "line_type": "1", "line_drug": "2", "line_start": "2020-03-10", "line_ecog": "3"}))

    assert first.context["read_only"] and not second.context["read_only"]
    assert refused.status_code == 403
    assert TreatmentLine.objects.get(patient=patient, redcap_repeat_instance=1).line_ecog == 1


def test_a_data_manager_locks_unlocks_with_a_reason_and_signs_from_the_record_page(client, site_a):
    patient = locked_record(site_a)  # locked by data_manager
    data_manager = RecordLock.objects.get().locked_by
    client.force_login(data_manager)

    home = client.get(record_url(patient)).content.decode()
    sign_page = client.get(reverse("workspace:sign", args=["P-1"])).content.decode()
    wrong = client.post(reverse("workspace:sign", args=["P-1"]), {"password": "not-my-password"})
    signed = client.post(reverse("workspace:sign", args=["P-1"]), {"password": "pw-for-tests-only"})
    no_reason = client.post(reverse("workspace:unlock", args=["P-1"]), {"reason": ""})
    unlocked = client.post(reverse("workspace:unlock", args=["P-1"]), {"reason": "Site corrects line 2"})
    relocked = client.post(reverse("workspace:lock", args=["P-1"]), {"form": "treatment_line", "instance": "2"})

    assert "Unlock the record" in home and "Sign the record" in home
    assert SIGNATURE_MEANING in sign_page and 'type="password"' in sign_page
    assert wrong.status_code == 200 and "The password is not correct; nothing was signed." in wrong.content.decode()
    assert signed.status_code == 302 and RecordSignature.objects.count() == 1
    assert no_reason.status_code == 200 and "Say why this is unlocked" in no_reason.content.decode()
    assert unlocked.status_code == 302 and relocked.status_code == 302
    assert sorted(RecordLock.objects.values_list("form", "repeat_instance", "unlock_reason")) == [
        ("", None, "Site corrects line 2"), ("treatment_line", 2, "")]
    # The signature stays valid: unlocking changed no data.
    assert "<td><span class=\"status\">valid</span></td>" in client.get(record_url(patient)).content.decode()


def test_coordinators_may_not_lock_and_viewers_may_not_sign(client, coordinator_a, site_a):
    patient = locked_record(site_a, data_manager=make_data_manager("dm"))
    client.force_login(coordinator_a)

    assert client.post(reverse("workspace:lock", args=["P-1"]), {"form": "treatment_line", "instance": "2"}
                       ).status_code == 403
    assert client.post(reverse("workspace:unlock", args=["P-1"]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("workspace:sign", args=["P-1"])).status_code == 403
    assert "Lock the record" not in client.get(record_url(patient)).content.decode()
    assert RecordLock.objects.filter(unlocked_at__isnull=True).count() == 1


def test_the_record_page_marks_a_locked_form_and_offers_no_deletion_of_it(client, coordinator_a, site_a):
    patient = locked_record(site_a, whole_record=False)  # treatment line 1
    client.force_login(coordinator_a)

    home = client.get(record_url(patient)).content.decode()

    delete_1 = reverse("workspace:instance_delete", args=["P-1", "treatment_line", 1])
    delete_2 = reverse("workspace:instance_delete", args=["P-1", "treatment_line", 2])
    assert f'href="{delete_1}"' not in home and f'href="{delete_2}"' in home
    assert home.count('<span class="badge badge-locked"') == 1
    assert "treatment_line 1 of record P-1 is locked (by data_manager on 2026-11-30 09:15 UTC)" in home
