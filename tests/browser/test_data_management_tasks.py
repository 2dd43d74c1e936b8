"""The day-to-day data-management tasks, each as the person who does it sees it in the browser: a data
manager locks a record and signs it (docs/locking.md), a coordinator enters a missing-data code instead
of a value (docs/missing-data-codes.md), a saved report is made and read (docs/saved-reports.md).

The registry is tests/browser/world.py's: B-101 and B-102 at site A (the coordinator's), C-201 at site B.
"""
import re
from datetime import timedelta

from playwright.sync_api import expect

from registry.models import Patient, RecordSignature, SavedReport
from tests.browser import pages
from tests.browser.world import PASSWORD

SIGNATURE_MEANING = "I have reviewed every form of this record"


def test_a_data_manager_locks_a_record_and_signs_it_and_the_coordinators_form_is_read_only(new_context, world):
    manager = new_context().new_page()
    coordinator = new_context().new_page()
    pages.log_in(manager, world.data_manager.username)
    pages.log_in(coordinator, world.coordinator.username)

    # Not locked yet: nothing to sign, the coordinator can edit the enrollment form.
    manager.goto("/records/B-101/")
    expect(manager.get_by_role("link", name="Sign the record")).to_have_count(0)
    coordinator.goto("/records/B-101/enrollment/")
    expect(coordinator.get_by_role("button", name="Save")).to_be_visible()

    # The data manager locks it from the record page; the page names the lock.
    manager.get_by_role("button", name="Lock the record").click()
    manager.wait_for_url(re.compile(r"/records/B-101/$"))
    expect(manager.locator("#record-lock")).to_contain_text(
        f"record B-101 is locked (by {world.data_manager.username} on ")
    expect(manager.locator(".record-locks")).to_contain_text("Not signed.")

    # The coordinator's form is read-only and says whose lock it is; the record page offers no additions.
    coordinator.reload()
    expect(coordinator.locator("#instance-lock")).to_contain_text(
        f"Locked: record B-101 is locked (by {world.data_manager.username} on ")
    expect(coordinator.locator("form.instance-form")).to_have_count(0)
    expect(coordinator.get_by_role("button", name="Save")).to_have_count(0)
    expect(coordinator.locator("dl.values")).to_contain_text("Adenocarcinoma")  # the values, shown as text
    pages.screenshot(coordinator, "locked-record")
    coordinator.goto("/records/B-101/")
    expect(coordinator.locator(".read-only-note")).to_have_text("The record is locked: it is shown read-only.")
    expect(coordinator.get_by_role("link", name="Add a scan")).to_have_count(0)

    # Signing: the page states what the signature means; a wrong password signs nothing.
    manager.get_by_role("link", name="Sign the record").click()
    expect(manager.locator("#signature-meaning")).to_contain_text(SIGNATURE_MEANING)
    manager.get_by_label("Your password").fill("not-the-password")
    manager.get_by_role("button", name="Sign").click()
    expect(manager.locator(".error-summary, .error-text").first).to_be_visible()
    assert not RecordSignature.objects.exists()

    manager.get_by_label("Your password").fill(PASSWORD)
    manager.get_by_role("button", name="Sign").click()
    manager.wait_for_url(re.compile(r"/records/B-101/$"))
    signature = manager.locator("table.signatures tbody tr")
    expect(signature).to_have_count(1)
    expect(signature.locator("td")).to_contain_text([world.data_manager.username, world.today.isoformat(),
                                                      SIGNATURE_MEANING, "valid"])
    assert RecordSignature.objects.get().signed_by == world.data_manager


def test_a_coordinator_enters_a_missing_data_code_instead_of_a_value(coordinator_page, world):
    page = coordinator_page
    page.goto("/records/B-101/enrollment/")
    smoking = page.locator("#field-smoking")
    expect(smoking.get_by_role("radio", name="Never smoker")).not_to_be_checked()

    # "Asked but unknown": the patient was asked and did not know.
    code = smoking.get_by_label("Missing-data code")
    code.select_option("ASKU")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/records/B-101/$"))
    expect(page.locator(".messages")).to_be_visible()

    patient = Patient.objects.get(record_id="B-101")
    assert (patient.smoking, patient.smoking_missing) == (None, "ASKU")
    page.goto("/records/B-101/enrollment/")
    expect(page.locator("#field-smoking").get_by_label("Missing-data code")).to_have_value("ASKU")


def test_a_data_manager_saves_a_shared_report_and_the_coordinator_reads_their_sites_rows(new_context, world):
    manager = new_context().new_page()
    pages.log_in(manager, world.data_manager.username)

    manager.goto("/reports/")
    expect(manager.locator("main")).to_contain_text("No reports yet")
    manager.get_by_role("link", name="New report").click()
    manager.get_by_label("Name").fill("Lines on alectinib")
    manager.get_by_label("Share with everyone who reads records").check()
    manager.get_by_label("Regimen [line_drug]").check()
    manager.get_by_label("Start date [line_start]").check()
    manager.get_by_label("Filter").fill('[line_drug] = "2"')
    expect(manager.locator("#filter-check")).to_have_text("The filter reads correctly.")
    manager.get_by_label("Sort by").select_option("line_start")
    manager.get_by_label("Direction").select_option(label="Descending")
    manager.get_by_role("button", name="Save").click()

    # The alectinib lines (code 2): B-101's (started 300 days ago) and C-201's (390 days ago), newest first;
    # B-102 is on lorlatinib. Each record's enrollment row has no line_start, so it sorts last.
    report = SavedReport.objects.get()
    manager.wait_for_url(re.compile(rf"/reports/{report.pk}/$"))
    table = manager.locator("table.report-table")
    expect(table.locator("thead th")).to_have_text(
        ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "line_drug", "line_start"])
    line_rows = table.locator("tbody tr", has_text="treatment_line")
    expect(line_rows.locator("td:first-child")).to_have_text(["B-101", "C-201"])
    expect(line_rows.locator("td:last-child")).to_have_text(
        [(world.today - timedelta(days=300)).isoformat(), (world.today - timedelta(days=390)).isoformat()])
    pages.screenshot(manager, "report")

    # The coordinator of site A finds it among the reports and reads site A's rows only.
    coordinator = new_context().new_page()
    pages.log_in(coordinator, world.coordinator.username)
    coordinator.goto("/reports/")
    coordinator.get_by_role("link", name="Lines on alectinib").click()
    rows = coordinator.locator("table.report-table tbody tr td:first-child")
    expect(rows.first).to_have_text("B-101")
    assert set(rows.all_inner_texts()) == {"B-101"}
