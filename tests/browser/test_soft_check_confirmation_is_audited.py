"""A value that is allowed but unusual (a date in the future) is asked about before it is kept; the
coordinator confirms it, and the confirmation is in the patient's audit trail: who, and what was
confirmed."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from registry.models import Patient, SoftCheckConfirmation
from tests.browser import pages


def test_a_confirmed_future_date_is_saved_and_the_confirmation_appears_in_the_audit_trail(new_context, world):
    future = (world.today + timedelta(days=30)).isoformat()
    page = new_context().new_page()
    pages.log_in(page, world.coordinator.username)
    page.goto("/records/B-101/vital_status/")
    form = page.locator("#instance-form")

    pages.set_field(form, "last_alive_date", future)
    form.get_by_role("button", name="Save", exact=True).click()

    # Asked, not saved.
    confirm = page.locator('input[name="confirm_check"]')
    expect(confirm).to_be_visible()
    assert Patient.objects.get(pk=world.overdue.pk).last_alive_date == world.today - timedelta(days=130)
    confirm.check()
    page.locator("#instance-form").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator('input[name="confirm_check"]')).to_have_count(0)

    assert Patient.objects.get(pk=world.overdue.pk).last_alive_date.isoformat() == future
    confirmation = SoftCheckConfirmation.objects.get(patient=world.overdue, field="last_alive_date")
    assert (confirmation.value, confirmation.confirmed_by, confirmation.door) == (
        future, world.coordinator, "workspace")

    admin = new_context().new_page()
    pages.log_in(admin, world.administrator.username)
    admin.goto(pages.audit_trail_url(world.overdue))
    confirmed_row = admin.locator("tr").filter(has_text=re.compile("confirm", re.IGNORECASE)).filter(has_text=future)
    expect(confirmed_row.first).to_be_visible()
    expect(confirmed_row.first).to_contain_text(world.coordinator.username)
