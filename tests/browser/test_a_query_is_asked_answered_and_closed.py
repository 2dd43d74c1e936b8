"""A data manager queries a value on a record's form, the site's coordinator answers it, and the data
manager closes it: what each of them sees at each step (docs/queries.md).

The value: B-101's date of diagnosis of advanced disease (tests/browser/world.py), asked about on the
enrollment form, which the data manager reads (their role enters no data) and the coordinator edits.
"""
import re

from playwright.sync_api import expect

from registry.models import Query, QueryState
from tests.browser import pages

QUESTION = "The first line starts before this date of diagnosis: is the date right?"
ANSWER = "Checked against the discharge letter: the date is right."
FIELD_LABEL = "Date of diagnosis of advanced (unresectable or metastatic) disease"


def _open_queries_tab(page):
    return page.locator(".worklist-tabs a", has_text="Open queries")


def test_a_data_manager_queries_a_value_and_the_coordinator_answers_it(new_context, world):
    manager = new_context().new_page()
    coordinator = new_context().new_page()
    pages.log_in(manager, world.data_manager.username)
    pages.log_in(coordinator, world.coordinator.username)

    # Before: nothing open on the coordinator's worklist.
    expect(_open_queries_tab(coordinator).locator("strong")).to_have_text("0")

    # The data manager opens the record's enrollment form (read-only for them) and queries the date.
    manager.goto("/records/B-101/")
    manager.get_by_role("link", name=re.compile(r"^Enrollment")).click()
    manager.wait_for_url(re.compile(r"/records/B-101/enrollment/$"))
    expect(manager.locator("form.instance-form")).to_have_count(0)
    date_row = manager.locator("dl.values > div", has=manager.locator("dt", has_text=FIELD_LABEL))
    # Each such link names its field (visually hidden), so that a list of the page's links makes sense.
    manager.get_by_role("link", name=f"Query this field: {FIELD_LABEL}", exact=True).click()
    manager.wait_for_url(re.compile(r"/queries/new/B-101/\?"))
    expect(manager.locator("main")).to_contain_text(f"About the field “{FIELD_LABEL}”")
    manager.get_by_label("Question").fill(QUESTION)
    manager.get_by_role("button", name="Open the query").click()

    # Back on the form it came from: the field carries the Query marker, the page lists the query.
    manager.wait_for_url(re.compile(r"/records/B-101/enrollment/$"))
    query = Query.objects.get()
    expect(manager.locator(".messages")).to_contain_text(f"Query {query.pk} opened")
    expect(date_row.locator(".query-marker")).to_have_text("Query")
    expect(manager.locator(".form-queries")).to_contain_text(f"Query {query.pk} on adv_dx_date · Open")

    # The coordinator's worklist counts one open query and shows the question, to be answered.
    coordinator.reload()
    tab = _open_queries_tab(coordinator)
    expect(tab.locator("strong")).to_have_text("1")
    tab.click()
    rows = coordinator.locator(".worklist-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("B-101")
    expect(rows.first).to_contain_text(QUESTION)
    expect(rows.first).to_contain_text("Open")

    # On the coordinator's form, the date field carries the marker, which leads to the form's queries.
    coordinator.goto("/records/B-101/enrollment/")
    marker = coordinator.locator("#field-adv_dx_date .query-marker")
    expect(marker).to_be_visible()
    marker.click()
    expect(coordinator.locator("#form-query-adv_dx_date")).to_contain_text(f"Query {query.pk}")

    # The coordinator answers from the worklist's link.
    coordinator.goto("/?category=open_queries")
    coordinator.get_by_role("link", name=re.compile(r"^Answer the query")).click()
    coordinator.wait_for_url(re.compile(rf"/queries/{query.pk}/$"))
    expect(coordinator.locator("#query-thread")).to_contain_text(QUESTION)
    expect(coordinator.get_by_role("button", name="Close the query")).to_have_count(0)  # not theirs to close
    coordinator.get_by_label("Message").fill(ANSWER)
    coordinator.get_by_role("button", name="Send the response").click()
    expect(coordinator.locator("h1 .badge")).to_have_text("Responded")
    expect(coordinator.locator("#query-thread li")).to_have_count(2)
    expect(coordinator.locator("#query-thread li").nth(1)).to_contain_text(f"Responded by {world.coordinator.username}")
    expect(coordinator.get_by_role("button", name="Send the response")).to_have_count(0)  # answered once

    # The data manager reads the answer among the queries and closes the query.
    manager.goto("/queries/?state=responded")
    manager.get_by_role("link", name=f"Query {query.pk}", exact=True).click()
    expect(manager.locator("#query-thread")).to_contain_text(ANSWER)
    manager.get_by_role("button", name="Close the query").click()
    expect(manager.locator("h1 .badge")).to_have_text("Closed")
    pages.screenshot(manager, "query")
    manager.goto("/queries/")
    # Site A: no query open or responded, one closed (the one above, closed within the minute: 0.0 days).
    site_a = manager.locator("#query-figures tbody tr", has_text="site-a")
    expect(site_a.locator("td")).to_have_text(["0", "0", "1", "0.0"])  # open, responded, closed, median days
    pages.screenshot(manager, "queries")

    # Closed: off the coordinator's worklist and no marker on the form.
    coordinator.goto("/")
    expect(_open_queries_tab(coordinator).locator("strong")).to_have_text("0")
    coordinator.goto("/records/B-101/enrollment/")
    expect(coordinator.locator("#field-adv_dx_date .query-marker")).to_have_count(0)

    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
    assert [(m.transition, m.author.username, m.text) for m in query.messages.order_by("created_at", "id")] == [
        ("open", world.data_manager.username, QUESTION),
        ("respond", world.coordinator.username, ANSWER),
        ("close", world.data_manager.username, ""),
    ]
