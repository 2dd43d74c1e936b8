"""The other instruments' forms, each as a coordinator meets it: a complete entry is saved, a mistake
is shown in the error summary at the top, linking to its field, and nothing is written."""
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import pytest
from playwright.sync_api import expect

from registry.models import Biopsy, Lesion, LocalTherapy, Patient, TreatmentLine
from tests.browser import pages


@dataclass(frozen=True)
class Case:
    url: str  # under /records/B-101/
    # name -> value, given the day the tests run (dates relative to it)
    entry: Callable[[object], dict[str, str]]
    saved: Callable[[Patient, object], bool]  # (patient, today): is the entry in the database?
    mistake: Callable[[object], dict[str, str]]
    mistaken_field: str
    unchanged: Callable[[Patient], object] = field(default=lambda patient: None)  # a snapshot to compare


def days_ago(today, days: int) -> str:
    return (today - timedelta(days=days)).isoformat()


CASES = {
    "treatment line": Case(
        url="treatment_line/new/",
        # Second line: lorlatinib (7), an ALK TKI (1), started 5 days ago.
        entry=lambda today: {"line_no": "2", "line_type": "1", "line_drug": "7", "line_start": days_ago(today, 5)},
        saved=lambda patient, today: TreatmentLine.objects.filter(
            patient=patient, line_no=2, line_drug=7, line_start=today - timedelta(days=5)).exists(),
        # An end before the start is refused (TreatmentLine.clean).
        mistake=lambda today: {"line_no": "2", "line_type": "1", "line_drug": "7",
                               "line_start": days_ago(today, 5), "line_end": days_ago(today, 10)},
        mistaken_field="line_end",
        unchanged=lambda patient: TreatmentLine.objects.filter(patient=patient).count(),
    ),
    "local therapy": Case(
        url="local_therapy/new/",
        # Stereotactic radiosurgery (1) of the brain (3) for oligo-progression (1).
        entry=lambda today: {"lt_date": days_ago(today, 20), "lt_type": "1", "lt_site": "3", "lt_intent": "1"},
        saved=lambda patient, today: LocalTherapy.objects.filter(
            patient=patient, lt_date=today - timedelta(days=20), lt_type=1, lt_site=3).exists(),
        mistake=lambda today: {"lt_date": "2024-02-30", "lt_type": "1"},  # no 30 February
        mistaken_field="lt_date",
        unchanged=lambda patient: LocalTherapy.objects.filter(patient=patient).count(),
    ),
    "lesion": Case(
        url="lesion/new/",
        # A non-target (2) bone lesion (9) of line 1.
        entry=lambda today: {"les_id": "L1-NT1", "les_line": "1", "les_class": "2", "les_site": "9"},
        saved=lambda patient, today: Lesion.objects.filter(
            patient=patient, les_id="L1-NT1", les_class=2, les_site=9).exists(),
        mistake=lambda today: {"les_id": "", "les_line": "1", "les_class": "2", "les_site": "9"},  # id required
        mistaken_field="les_id",
        unchanged=lambda patient: Lesion.objects.filter(patient=patient).count(),
    ),
    "biopsy": Case(
        url="biopsy/new/",
        entry=lambda today: {"bx_date": days_ago(today, 15), "bx_specimen": "2"},  # plasma (ctDNA)
        saved=lambda patient, today: Biopsy.objects.filter(
            patient=patient, bx_date=today - timedelta(days=15), bx_specimen=2).exists(),
        mistake=lambda today: {"bx_date": "15.03.2024", "bx_specimen": "2"},  # not ISO
        mistaken_field="bx_date",
        unchanged=lambda patient: Biopsy.objects.filter(patient=patient).count(),
    ),
    "vital status": Case(
        url="vital_status/",
        entry=lambda today: {"vital": "1", "last_alive_date": days_ago(today, 3)},  # alive
        saved=lambda patient, today: Patient.objects.filter(
            pk=patient.pk, vital=1, last_alive_date=today - timedelta(days=3)).exists(),
        mistake=lambda today: {"last_alive_date": "yesterday"},
        mistaken_field="last_alive_date",
        unchanged=lambda patient: Patient.objects.get(pk=patient.pk).last_alive_date,
    ),
    "enrollment": Case(
        url="enrollment/",
        entry=lambda today: {"smoking": "0"},  # never smoker
        saved=lambda patient, today: Patient.objects.filter(pk=patient.pk, smoking=0).exists(),
        mistake=lambda today: {"smoking": "0", "adv_dx_date": "2024-13-01"},  # no month 13
        mistaken_field="adv_dx_date",
        unchanged=lambda patient: Patient.objects.filter(pk=patient.pk).values_list("smoking", "adv_dx_date").get(),
    ),
}


def fill(page, values: dict[str, str]) -> None:
    form = page.locator("#instance-form")
    for name, value in values.items():
        pages.set_field(form, name, value)


def save(page) -> None:
    """Press Save and wait for the answer: the next page, or the form again with its errors."""
    with page.expect_navigation():
        page.locator("#instance-form").get_by_role("button", name="Save", exact=True).click()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_coordinator_saves_an_instrument_form(coordinator_page, world, case):
    page = coordinator_page
    page.goto(f"/records/B-101/{case.url}")

    fill(page, case.entry(world.today))
    save(page)

    expect(page.locator("#error-summary")).to_have_count(0)
    assert case.saved(world.overdue, world.today)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_mistake_in_an_instrument_form_is_summarised_with_a_link_to_its_field(coordinator_page, world, case):
    page = coordinator_page
    before = case.unchanged(world.overdue)
    page.goto(f"/records/B-101/{case.url}")

    fill(page, case.mistake(world.today))
    save(page)

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    link = summary.locator(f'a[href="#id_{case.mistaken_field}"]')
    expect(link).to_have_count(1)
    expect(page.locator(f"#id_{case.mistaken_field}")).to_have_count(1)
    assert case.unchanged(world.overdue) == before
