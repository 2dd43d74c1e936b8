"""A value that is allowed but unusual (a scan dated in the future) is asked about before it is kept;
the coordinator confirms it, and the confirmation is in the patient's audit trail: who confirmed which
value."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from registry.models import SoftCheckConfirmation, TumorAssessment
from tests.browser import pages

UNCHANGED_MM = {"L1-T1": "19", "L1-T2": "13", "L1-T3": "6"}  # stable disease against the nadir


def test_a_confirmed_future_scan_date_is_saved_and_the_confirmation_appears_in_the_audit_trail(new_context, world):
    future = (world.today + timedelta(days=10)).isoformat()
    page = new_context().new_page()
    pages.log_in(page, world.coordinator.username)
    page.goto("/records/B-101/scans/new/")
    form = page.locator("#scan-form")
    form.locator('[name="ta_date"]').fill(future)
    for les_id, mm in UNCHANGED_MM.items():
        form.locator(f'[name="mm-{les_id}"]').fill(mm)
    form.locator('[name="ta_new_lesion"][value="0"]').check()

    form.get_by_role("button", name="Save scan").click()

    # Asked, not saved.
    confirm = page.locator('input[name="confirm_check"]')
    expect(confirm).to_have_count(1)
    assert not TumorAssessment.objects.filter(patient=world.overdue, ta_date=future).exists()
    confirm.check()
    page.locator("#scan-form").get_by_role("button", name="Save scan").click()
    page.wait_for_url(re.compile(r"/records/B-101/$"))

    assert TumorAssessment.objects.filter(patient=world.overdue, ta_date=future).exists()
    confirmation = SoftCheckConfirmation.objects.get(patient=world.overdue, field="ta_date")
    assert (confirmation.value, confirmation.confirmed_by, confirmation.door) == (
        future, world.coordinator, "workspace")

    admin = new_context().new_page()
    pages.log_in(admin, world.administrator.username)
    admin.goto(pages.audit_trail_url(world.overdue))
    confirmed = admin.locator("tr").filter(has_text=re.compile("confirmed", re.IGNORECASE)).filter(has_text=future)
    expect(confirmed).to_have_count(1)
    expect(confirmed).to_contain_text(world.coordinator.username)
