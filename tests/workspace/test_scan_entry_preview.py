"""Scan entry: the live preview says what registry/derive computes for the scan as typed, today as the
cut-off. The history of the patient is in tests/workspace/scan_cases.py: baseline sum 60 mm, nadir 40 mm
(a PR at 2024-03-05). Thresholds (rules §0): PR iff 10 × sum ≤ 7 × 60 = 420; PD iff 10 × sum ≥ 12 × 40 =
480 and sum − 40 ≥ 5 mm."""
from datetime import date

import pytest

from tests import factories
from tests.workspace.scan_cases import make_scan_patient, page_text, scan_post


@pytest.fixture
def scan_patient(site_a):
    return make_scan_patient(site_a)


@pytest.fixture
def coordinator(client, coordinator_a):
    client.force_login(coordinator_a)
    return client


def _preview(client, scan_patient, mm, **extra):
    response = client.post(scan_patient.new_url, scan_post(mm, _preview="1", **extra))
    assert response.status_code == 200
    return page_text(response)


def test_a_sum_down_by_half_from_baseline_previews_as_partial_response(coordinator, scan_patient):
    # 15 + 10 + 5 = 30 mm: 10 × 30 = 300 ≤ 420 → PR; (30 − 60) / 60 = −50.0 %; (30 − 40) / 40 = −25.0 %.
    # The non-target is present, not measured: Non-CR/Non-PD; PR + Non-CR/Non-PD → PR overall.
    text = _preview(coordinator, scan_patient, (15, 10, 5))
    assert "Target sum 30 mm" in text
    assert "Change from baseline -50.0 %" in text
    assert "Change from nadir -25.0 %" in text
    assert "Target response PR — partial response" in text
    assert "Non-target response NON-CR/NON-PD — non-CR/non-PD" in text
    assert "Overall response PR — partial response" in text


def test_a_sum_between_the_thresholds_previews_as_stable_disease(coordinator, scan_patient):
    # 20 + 14 + 10 = 44 mm: 440 < 480 (no PD), 440 > 420 (no PR) → SD; −26.7 % from 60, +10.0 % from 40.
    text = _preview(coordinator, scan_patient, (20, 14, 10))
    assert "Target sum 44 mm" in text
    assert "Change from baseline -26.7 %" in text
    assert "Change from nadir +10.0 %" in text
    assert "Overall response SD — stable disease" in text


def test_a_sum_a_quarter_above_the_nadir_previews_as_progression(coordinator, scan_patient):
    # 20 + 18 + 12 = 50 mm: 500 ≥ 480 and 50 − 40 = 10 ≥ 5 → PD, although 16.7 % below baseline.
    text = _preview(coordinator, scan_patient, (20, 18, 12))
    assert "Target sum 50 mm" in text
    assert "Change from baseline -16.7 %" in text
    assert "Change from nadir +25.0 %" in text
    assert "Target response PD — progressive disease" in text
    assert "Overall response PD — progressive disease" in text


def test_a_new_brain_lesion_makes_a_stable_sum_progression(coordinator, scan_patient):
    # Targets as in the SD case (44 mm → SD), but an unequivocal new lesion: overall PD (RECIST table 1).
    text = _preview(coordinator, scan_patient, (20, 14, 10), new_lesion="1", ta_new_sites=["3"], ta_new_count="1")
    assert "Target response SD — stable disease" in text
    assert "New lesions Yes" in text
    assert "Overall response PD — progressive disease" in text


def test_a_target_not_typed_yet_leaves_the_sum_blank_and_the_response_not_evaluable(coordinator, scan_patient):
    # Only L1-T1 = 20 mm: the known 20 mm does not reach PD against 40; a target is unknown → NE (§2),
    # and a partial sum is no sum.
    text = _preview(coordinator, scan_patient, (20, "", ""))
    assert "Target sum — (not every target known)" in text
    assert "Target response NE — not evaluable" in text
    assert "Overall response NE — not evaluable" in text


def test_an_invalid_number_computes_nothing_and_says_why(coordinator, scan_patient):
    text = _preview(coordinator, scan_patient, ("2O", 18, 12))
    assert "Not computed yet: Diameter of L1-T1 in mm: Enter a number." in text
    assert "Overall response" not in text


def test_the_preview_answers_the_branching_state_of_the_form(coordinator, scan_patient):
    # The dictionary: ta_new_sites and ta_new_count show only when [ta_new_lesion] = '1'.
    hidden_without = _branching_hidden(coordinator.post(scan_patient.new_url, scan_post(_preview="1")))
    hidden_with = _branching_hidden(coordinator.post(scan_patient.new_url, scan_post(_preview="1", new_lesion="1")))
    assert {"ta_new_sites", "ta_new_count"} <= hidden_without
    assert not {"ta_new_sites", "ta_new_count"} & hidden_with


def _branching_hidden(response) -> set[str]:
    import re

    match = re.search(r'id="branching-state" data-form="scan-form" data-hidden="([^"]*)"', response.content.decode())
    assert match, "the preview carries the branching state"
    return set(match.group(1).split())


def test_a_scan_on_the_next_lines_start_day_belongs_to_both_lines(coordinator, scan_patient):
    # §1: the window of line 1 runs to line 2's start inclusive; the same assessment is line 2's baseline.
    factories.make_line(scan_patient.patient, 2, line_drug=7, line_start=date(2024, 5, 6))
    factories.make_lesion(scan_patient.patient, "L2-T1", les_line=2, les_site=3)
    page = page_text(coordinator.get(scan_patient.new_url + "?date=2024-05-06"))
    assert "This scan belongs to line 1 (follow-up) and line 2 (baseline)." in page
    assert "L2-T1" in page

    data = scan_post((20, 18, 12), _preview="1", lesions_shown="L1-T1 L1-T2 L1-T3 L1-N1 L2-T1", **{"mm-L2-T1": "25"})
    text = page_text(coordinator.post(scan_patient.new_url, data))
    assert "This scan belongs to line 1 (follow-up) and line 2 (baseline)." in text
    assert "Line 1 (follow-up)" in text and "Overall response PD — progressive disease" in text
    assert "Line 2 (baseline) Baseline target sum 25 mm" in text


def test_typing_another_lines_date_brings_that_lines_lesions(coordinator, scan_patient):
    factories.make_line(scan_patient.patient, 2, line_drug=7, line_start=date(2024, 5, 6))
    factories.make_lesion(scan_patient.patient, "L2-T1", les_line=2, les_site=3)
    # The rows on the page were for 2024-05-01 (line 1 only); the date typed now is in line 2's window.
    response = coordinator.post(scan_patient.new_url, scan_post(
        (20, 18, 12), _preview="1", ta_date="2024-07-01", rows_for="2024-05-01"))
    body = response.content.decode()
    assert 'id="lesion-rows" class="lesion-rows" hx-swap-oob="outerHTML"' in body
    assert 'name="mm-L2-T1"' in body and 'name="mm-L1-T1"' not in body
    assert "This scan belongs to line 2 (follow-up)." in page_text(response)


def test_the_page_without_a_date_shows_the_lesions_of_the_line_running_today(coordinator, scan_patient):
    page = page_text(coordinator.get(scan_patient.new_url))
    assert "the lesions of line 1, the line running today, are shown" in page
    # Baseline 30, nadir 20 (its smallest, 2024-03-05), last 20 at 2024-03-05.
    assert "L1-T1 Target Lung 30 20 20 (2024-03-05)" in page
    assert "L1-N1 Non-target Lymph node Present (non-target, not measured)" in page


def test_the_preview_reads_the_record_with_a_fixed_number_of_queries(coordinator, scan_patient,
                                                                     django_assert_num_queries):
    data = scan_post((20, 18, 12), _preview="1")
    coordinator.post(scan_patient.new_url, data)  # the session and the user's access, read once
    with django_assert_num_queries(QUERIES):
        coordinator.post(scan_patient.new_url, data)


# The session, the user, the user's role and memberships (access_for), the patient (visible_patients),
# the derive input (six: patients, lines, local therapy, assessments, lesions with measurements,
# biopsies with variants), the analysis settings, the lesions, the record version, and the locks in
# force on the record (a record locked as a whole takes no new scan: registry/workspace/views/locks.py).
QUERIES = 15


def test_a_date_another_scan_has_computes_nothing_and_says_so(coordinator, scan_patient):
    text = _preview(coordinator, scan_patient, (20, 18, 12), ta_date="2024-03-05", rows_for="2024-03-05")
    assert "Not computed yet: Date of this imaging time point (its first scan): This patient already has a scan" in text
