"""A coordinator records the scan of an overdue patient that shows progression, with the keyboard only,
and sees on the record's home page what it means for the line: its progression date, that the brain
was involved, and its progression-free survival.

Hand-worked (tests/browser/world.py has B-101's earlier scans): the new scan, dated yesterday, measures
the three targets at 26 + 18 + 8 = 52 mm against a nadir of 19 + 13 + 6 = 38 mm: +14 mm, +36.8 %, at
least 20 % and 5 mm over the nadir, so the target response is PD (RECIST 1.1 §4.3.1), and a new brain
lesion is PD on its own (§4.3.2) and CNS progression. The line's progression date is the date of this
scan; PFS runs from the line's start, 300 days ago, to yesterday: 299 days, 299 / 30.4375 = 9.82 months.
"""
import re
from datetime import timedelta

from playwright.sync_api import expect

from registry.models import TumorAssessment
from tests.browser import pages

NEW_SCAN_MM = {"L1-T1": "26", "L1-T2": "18", "L1-T3": "8"}
MAX_NAVIGATIONS = 4


def test_a_coordinator_records_a_progression_scan_with_a_new_brain_lesion_by_keyboard_only(coordinator_page, world):
    page = coordinator_page
    scan_date = world.today - timedelta(days=1)
    navigations = pages.Navigations(page)
    pages.screenshot(page, "worklist")

    # The worklist lists B-101 among the overdue scans; the coordinator opens its record.
    record_link = page.get_by_role("link", name="B-101", exact=True)
    if not record_link.first.is_visible():
        pages.activate(page, page.get_by_role("tab", name=re.compile("overdue", re.IGNORECASE)).first)
    expect(record_link.first).to_be_visible()
    pages.activate(page, record_link.first)
    page.wait_for_url(re.compile(r"/records/B-101/(scans/new/)?$"))
    if not page.url.endswith("/scans/new/"):
        pages.activate(page, page.get_by_role("link", name="Add a scan"))
        page.wait_for_url(re.compile(r"/records/B-101/scans/new/$"))

    # The scan: its date, the three targets measured, a new lesion in the brain.
    form = page.locator("#scan-form")
    pages.type_into(page, form.locator('[name="ta_date"]'), scan_date.isoformat())
    for les_id, mm in NEW_SCAN_MM.items():
        _measured(page, form, les_id)
        pages.type_into(page, form.get_by_label(f"Diameter of {les_id} in mm"), mm)
    pages.choose_radio(page, form.locator('[name="ta_new_lesion"][value="1"]'))
    pages.tick(page, form.get_by_role("checkbox", name="Brain", exact=True))
    page.keyboard.press("Tab")  # leaves the last field, as a person moving on to the save button does

    # Before saving, the preview says what the scan means.
    expect(page.locator("#scan-preview")).to_contain_text("PD")
    expect(page.locator("#scan-preview")).to_contain_text(re.compile("progressive disease", re.IGNORECASE))
    pages.screenshot(page, "scan")
    pages.activate(page, form.get_by_role("button", name="Save scan"))

    # Saved: the record's home page, whose live view shows the line's progression.
    page.wait_for_url(re.compile(r"/records/B-101/$"))
    expect(page.locator(".messages")).to_be_visible()
    live = page.locator("#live-view")
    expect(live).to_contain_text(scan_date.isoformat())
    expect(live).to_contain_text("CNS progression")
    expect(live).to_contain_text("PFS")
    expect(live).to_contain_text(re.compile(r"\b299\b|\b9\.8"))
    assert navigations.count <= MAX_NAVIGATIONS, f"{navigations.count} page loads from the worklist: {navigations.urls}"
    pages.screenshot(page, "record-home")

    saved = TumorAssessment.objects.get(patient=world.overdue, ta_date=scan_date)
    assert (saved.ta_new_lesion, saved.ta_new_sites_3) == (1, True)
    assert {m.lesion.les_id: int(m.lm_mm) for m in saved.measurements.select_related("lesion")} == {
        les_id: int(mm) for les_id, mm in NEW_SCAN_MM.items()}


def _measured(page, form, les_id: str) -> None:
    """Sets the lesion's status to Measured by keyboard, unless the page already offers it so."""
    status = form.locator(f'[name="status-{les_id}"]')
    if status.first.evaluate("element => element.tagName") == "SELECT":
        if status.first.input_value() != "1":
            pages.choose_option(page, status.first, "Measured")
    elif not form.locator(f'[name="status-{les_id}"]:checked').count():
        pages.choose_radio(page, form.locator(f'[name="status-{les_id}"][value="1"]'))
