"""The harness proves itself on pages that exist whatever else is built: the login page and an admin
page. If these fail, the scenario tests' failures say nothing about the workspace."""
import re

import pytest

from tests.browser import conftest, pages


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("1", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])
def test_without_chromium_the_browser_tests_skip_except_under_ci_where_they_fail(monkeypatch, ci, outcome):
    monkeypatch.setattr(conftest, "chromium_path", lambda: None)
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="No Chromium"):
        conftest.required_chromium()


def test_a_coordinator_logs_in_by_keyboard_and_lands_on_the_worklist(page, world):
    page.goto("/login/")
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)

    pages.log_in(page, world.coordinator.username)

    assert re.fullmatch(r"https?://[^/]+/", page.url)


def test_a_wrong_password_keeps_the_person_on_the_login_page_with_the_error_focused(page, world):
    page.goto("/login/")
    pages.type_into(page, page.get_by_label("Username"), world.coordinator.username)
    pages.type_into(page, page.get_by_label("Password"), "not-the-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url.endswith("/login/")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert pages.has_focus(summary)
    pages.assert_accessible(page)


def test_the_collector_reports_a_script_the_policy_refuses(page, world, csp_violations):
    """The CSP collector is not a test that cannot fail: an inline script put into a page is reported."""
    page.goto("/login/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.ranInline = true";
        document.body.appendChild(script);
    }""")
    page.wait_for_function("() => true")  # one round trip, so that the binding's call has arrived

    assert page.evaluate("window.ranInline === undefined")
    assert any(violation.get("directive", "").startswith("script-src") for violation in csp_violations)
    csp_violations.clear()  # expected here: the fixture's teardown checks the rest of the suite's pages


def test_the_scroll_check_sees_a_page_wider_than_the_window(page, world):
    page.goto("/login/")
    page.evaluate("() => { document.querySelector('main').appendChild(document.createElement('div')).className = 'x'; "
                  "document.querySelector('main div.x').setAttribute('hidden', ''); }")
    assert pages.horizontal_overflow_px(page) <= 0
    page.set_viewport_size({"width": 320, "height": 800})
    page.evaluate("() => { const wide = document.createElement('img'); wide.width = 2000; wide.height = 1; "
                  "wide.alt = ''; document.body.appendChild(wide); }")
    assert pages.horizontal_overflow_px(page) > 0


def test_an_administrator_reads_a_patients_audit_trail_without_policy_violations_or_sideways_scrolling(page, world):
    pages.log_in(page, world.administrator.username)
    navigations = pages.Navigations(page)

    page.goto(pages.audit_trail_url(world.overdue))

    assert navigations.count == 1
    assert page.get_by_role("heading", name="Audit trail: B-101").is_visible()
    pages.assert_no_horizontal_scroll(page)
