"""Scan entry: saving a scan and its lesion rows in one transaction, and every way a save is held back
(errors, values in hidden fields, soft checks, a change made meanwhile, access). The patient's history is
in tests/workspace/scan_cases.py (baseline sum 60 mm, nadir 40 mm)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from registry.models import LesionMeasurement, Role, SoftCheckConfirmation, TumorAssessment
from registry.services.instances import instance_save
from registry.services.patient_versions import current_versions
from tests import factories
from tests.workspace.scan_cases import make_scan_patient, page_text, scan_post

SCAN = date(2024, 5, 6)


@pytest.fixture
def scan_patient(site_a):
    return make_scan_patient(site_a)


@pytest.fixture
def coordinator(client, coordinator_a):
    client.force_login(coordinator_a)
    return client


def _version(scan_patient) -> str:
    return current_versions([scan_patient.patient.pk])[scan_patient.patient.pk]


def _scans_on(scan_patient, day=SCAN):
    return TumorAssessment.objects.filter(patient=scan_patient.patient, ta_date=day)


def test_saving_a_progression_scan_writes_it_and_its_measurements_and_says_the_derived_response(
        coordinator, coordinator_a, scan_patient):
    before = _version(scan_patient)
    # 20 + 18 + 12 = 50 mm against the nadir of 40: +25 % and +10 mm → PD (rules §0, §2).
    response = coordinator.post(scan_patient.new_url, scan_post((20, 18, 12), version=before))

    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:record", args=[scan_patient.patient.record_id])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Scan 2024-05-06 saved. Derived response (today's view): PD — progressive disease on line 1."]
    scan = _scans_on(scan_patient).get()
    assert (scan.redcap_repeat_instance, scan.ta_new_lesion, scan.ta_scope_1) == (3, 0, True)
    stored = {m.lesion.les_id: (m.lm_status, m.lm_mm) for m in scan.measurements.select_related("lesion")}
    assert stored == {"L1-T1": (1, Decimal("20.00")), "L1-T2": (1, Decimal("18.00")), "L1-T3": (1, Decimal("12.00")),
                      "L1-N1": (6, None)}
    history = [*TumorAssessment.history.filter(id=scan.id),
               *LesionMeasurement.history.filter(assessment_id=scan.id)]
    assert len(history) == 5
    assert {(row.history_type, row.history_change_reason, row.history_user_id) for row in history} == {
        ("+", "workspace", coordinator_a.id)}
    assert _version(scan_patient) != before


def test_editing_a_scan_changes_its_rows_and_deletes_a_row_left_blank(coordinator, scan_patient):
    scan = _scans_on(scan_patient, date(2024, 3, 5)).get()
    url = scan_patient.edit_url(scan.redcap_repeat_instance)
    page = coordinator.get(url).content.decode()
    assert 'name="mm-L1-T1" value="20"' in page  # the stored measurements, filled in

    data = scan_post((21, 12, ""), ta_date="2024-03-05", rows_for="2024-03-05", version=_version(scan_patient))
    response = coordinator.post(url, data)

    assert response.status_code == 302
    stored = {m.lesion.les_id: m.lm_mm for m in scan.measurements.select_related("lesion")}
    assert stored == {"L1-T1": Decimal("21.00"), "L1-T2": Decimal("12.00"), "L1-N1": None}
    assert LesionMeasurement.history.filter(history_type="-", history_change_reason="workspace").count() == 1


def test_an_invalid_diameter_is_shown_beside_its_lesion_and_in_the_summary_and_nothing_is_written(
        coordinator, scan_patient):
    before = _version(scan_patient)
    response = coordinator.post(scan_patient.new_url, scan_post((20, "eighteen", 12), version=before))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<a href="#id_mm-L1-T2">Diameter of L1-T2 in mm: Enter a number.</a>' in body
    assert '<p class="error-text" id="id_mm-L1-T2_error">Enter a number.</p>' in body
    assert 'name="mm-L1-T1" value="20"' in body  # what was typed stays
    assert not _scans_on(scan_patient).exists()
    assert _version(scan_patient) == before


def test_a_diameter_with_a_status_other_than_measured_is_refused_beside_it(coordinator, scan_patient):
    data = scan_post((20, 18, 12), version=_version(scan_patient), **{"status-L1-T3": "2"})  # Disappeared, 12 mm
    body = coordinator.post(scan_patient.new_url, data).content.decode()
    assert "A diameter is recorded only when the lesion was measured; the status is &#x27;Disappeared&#x27;." in body
    assert 'href="#id_mm-L1-T3"' in body
    assert not _scans_on(scan_patient).exists()


def test_a_date_already_taken_by_another_scan_is_refused(coordinator, scan_patient):
    data = scan_post((20, 18, 12), ta_date="2024-03-05", rows_for="2024-03-05", version=_version(scan_patient))
    body = coordinator.post(scan_patient.new_url, data).content.decode()
    assert "This patient already has a scan on this date." in body
    assert TumorAssessment.objects.filter(patient=scan_patient.patient).count() == 2


def test_a_count_of_new_lesions_left_after_answering_no_is_offered_for_deletion(coordinator, scan_patient):
    # [ta_new_lesion] = '1' is the branching logic of ta_new_count: with "No" the count no longer applies.
    data = scan_post((20, 14, 10), version=_version(scan_patient), new_lesion="0", ta_new_count="2")
    response = coordinator.post(scan_patient.new_url, data)
    assert response.status_code == 200
    assert "These fields no longer apply to the answers above, but still hold a value: Number of new lesions." in (
        page_text(response))
    assert 'name="ta_new_count" value="2"' in response.content.decode()  # kept until the coordinator answers
    assert not _scans_on(scan_patient).exists()

    response = coordinator.post(scan_patient.new_url, {**data, "hidden_values": "clear"})
    assert response.status_code == 302
    assert _scans_on(scan_patient).get().ta_new_count is None


def test_a_scan_changed_meanwhile_is_not_overwritten_and_the_typed_values_stay(coordinator, scan_patient):
    loaded = _version(scan_patient)
    other = factories.make_user("dr_other", role=Role.COORDINATOR, sites=[scan_patient.patient.site])
    line = scan_patient.patient.treatment_lines.get()
    line.line_ecog = 1
    instance_save(instance=line, user=other, door="workspace")

    data = scan_post((20, 18, 12), version=loaded, loaded_at=(timezone.now() - timedelta(minutes=5)).isoformat())
    response = coordinator.post(scan_patient.new_url, data)

    assert response.status_code == 200
    text = page_text(response)
    assert "Not saved: this record was changed while you were editing it" in text
    assert "dr_other changed record SCAN-1" in text
    body = response.content.decode()
    assert 'name="mm-L1-T2" value="18"' in body
    assert f'name="record_version" value="{_version(scan_patient)}"' in body  # saving again applies these
    assert not _scans_on(scan_patient).exists()


def _future_scan(scan_patient):
    future = timezone.localdate() + timedelta(days=3)
    data = scan_post((20, 18, 12), ta_date=future.isoformat(), rows_for=future.isoformat(),
                     version=_version(scan_patient))
    return future, data, f"tumor_assessment|new|ta_date|future_date|{future.isoformat()}"


def test_a_scan_dated_in_the_future_asks_before_it_is_saved(coordinator, scan_patient):
    future, data, key = _future_scan(scan_patient)
    response = coordinator.post(scan_patient.new_url, data)
    assert response.status_code == 200
    assert f"Date of this imaging time point (its first scan): {future:%Y-%m-%d} is in the future" in page_text(
        response)
    assert f'name="confirm_check" value="{key}"' in response.content.decode()
    assert not _scans_on(scan_patient, future).exists()


def test_a_confirmed_future_date_is_saved_with_the_confirmation(coordinator, scan_patient):
    future, data, key = _future_scan(scan_patient)
    response = coordinator.post(scan_patient.new_url, {**data, "confirm_check": key})
    assert response.status_code == 302
    scan = _scans_on(scan_patient, future).get()
    confirmation = SoftCheckConfirmation.objects.get(patient=scan_patient.patient)
    assert (confirmation.instance, confirmation.check_code, confirmation.door) == (
        scan.redcap_repeat_instance, "future_date", "workspace")


def test_a_coordinator_of_another_site_gets_404(client, scan_patient, site_b):
    client.force_login(factories.make_user(role=Role.COORDINATOR, sites=[site_b]))
    scan = _scans_on(scan_patient, date(2024, 3, 5)).get()
    assert client.get(scan_patient.new_url).status_code == 404
    assert client.get(scan_patient.edit_url(scan.redcap_repeat_instance)).status_code == 404
    assert client.post(scan_patient.new_url, scan_post((20, 18, 12))).status_code == 404
    assert not _scans_on(scan_patient).exists()


def test_a_viewer_reads_the_scan_without_any_input_and_cannot_post(client, scan_patient, site_a):
    client.force_login(factories.make_user(role=Role.VIEWER, sites=[site_a]))
    scan = _scans_on(scan_patient, date(2024, 3, 5)).get()
    url = scan_patient.edit_url(scan.redcap_repeat_instance)

    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<input" not in body.split('<main id="main"')[1]
    assert "L1-T1 Target Lung 30 30 30 (2024-01-05) 20 mm" in page_text(response)
    assert "Overall response PR — partial response" in page_text(response)  # 40 mm: 400 ≤ 420
    assert client.get(scan_patient.new_url).status_code == 403
    assert client.post(url, scan_post((99, 99, 99), ta_date="2024-03-05")).status_code == 403
    assert scan.measurements.get(lesion__les_id="L1-T1").lm_mm == Decimal("20.00")


def test_a_non_target_node_stored_with_its_diameter_keeps_it_when_the_scan_is_saved_again(coordinator, scan_patient):
    # Non-targets get a status only, except one stored as measured (an imported short axis): it keeps its input.
    scan = _scans_on(scan_patient, date(2024, 3, 5)).get()
    scan.measurements.filter(lesion__les_id="L1-N1").update(lm_status=1, lm_mm=Decimal("8"))
    url = scan_patient.edit_url(scan.redcap_repeat_instance)
    assert 'name="mm-L1-N1" value="8"' in coordinator.get(url).content.decode()

    data = scan_post((20, 12, 8), ta_date="2024-03-05", rows_for="2024-03-05", version=_version(scan_patient),
                     nontarget="1", **{"mm-L1-N1": "8"})
    assert coordinator.post(url, data).status_code == 302
    assert scan.measurements.values_list("lm_status", "lm_mm").get(lesion__les_id="L1-N1") == (1, Decimal("8.00"))


def test_a_confirmed_target_change_is_stored_with_the_new_measurement_s_number(coordinator, scan_patient):
    # L1-T2 measured 12 mm at the follow-up of 2024-03-05; 20 mm today is (20 - 12) / 12 = +66.7 %, more than
    # the setting's 50 %: the check asks about that lesion's row. L1-T1 (20 → 20) and L1-T3 (8 → 8) do not.
    data = scan_post((20, 20, 8), version=_version(scan_patient))
    asked = coordinator.post(scan_patient.new_url, data)
    (check,) = asked.context["rows"].checks["L1-T2"]
    assert (check.code, check.field, check.subject) == ("target_change", "lm_mm", "L1-T2")
    assert not _scans_on(scan_patient).exists()

    saved = coordinator.post(scan_patient.new_url, data | {"confirm_check": check.key})

    assert saved.status_code == 302
    measurement = LesionMeasurement.objects.get(assessment__in=_scans_on(scan_patient), lesion__les_id="L1-T2")
    confirmation = SoftCheckConfirmation.objects.get(patient=scan_patient.patient)
    assert (confirmation.form, confirmation.instance, confirmation.field, confirmation.check_code) == (
        "lesion_measurement", measurement.redcap_repeat_instance, "lm_mm", "target_change")
