"""The browser tests' harness: the distribution's Chromium driven by Playwright for Python against
pytest-django's live server.

- The browser is the system's (Debian package `chromium`, found on the PATH), never one downloaded by
  `playwright install`: the CI machine has no network for that, and the package gets security updates.
  Missing, the tests skip with the reason; under CI=true they fail instead (scripts/test installs it).
- One browser while this package's tests run; a fresh context per test (1,280 × 800, the narrowest
  screen we promise to fit) so that no cookie or storage leaks from one test to the next.
- Every context collects Content-Security-Policy violations (the `securitypolicyviolation` event, through
  a binding Playwright injects, so the listener is not an inline script of ours and trips nothing, and
  the console's "Content Security Policy" messages); a test that ends with one fails at teardown.
- The live server needs committed data (transactional_db). Playwright's sync API runs an event loop in
  this thread, which Django's async-safety check takes for async code: DJANGO_ALLOW_ASYNC_UNSAFE lets the
  test thread use the database, set only while this package's tests run, and the browser is stopped
  after them, so that neither reaches the rest of the suite in the same process.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import pages
from tests.browser.world import build_world

VIEWPORT = {"width": 1280, "height": 800}
FALLBACK_CHROMIUM = "/usr/bin/chromium"  # the Debian package's path, when PATH is minimal

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__registryCspViolation({
    page: document.location.href, directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  });
});
"""


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return FALLBACK_CHROMIUM if Path(FALLBACK_CHROMIUM).exists() else None


def required_chromium() -> str:
    """The browser's path; without one the browser tests skip, and under CI=true they fail."""
    executable = chromium_path()
    if executable is not None:
        return executable
    reason = ("No Chromium on this machine: install the distribution's package (apt-get install chromium; "
              "scripts/test does it when run as root).")
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason} CI=true: the browser tests must run, so this is a failure.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser():
    """Chromium under Playwright while the browser tests run. Not for the whole session: Playwright's
    event loop would make Django refuse the database in the tests that run after these in the same
    process."""
    executable = required_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(autouse=True)
def _committed_data_for_the_live_server(_database_beside_playwrights_event_loop, transactional_db):
    """The server thread reads what the test writes: every browser test runs on a transactional database."""


@pytest.fixture(scope="package")
def _database_beside_playwrights_event_loop():
    """Set for the browser tests only (this package: from before a test's database is set up until after
    it is flushed), so that it reaches no other test, nor a subprocess one starts (`check --deploy`
    refuses it)."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def csp_violations() -> list[dict]:
    return []


@pytest.fixture
def new_context(browser, live_server, csp_violations):
    """A factory of fresh browser contexts (one per user in a test), each reporting CSP violations;
    the test fails at teardown if any page reported one."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
        context.set_default_timeout(10_000)
        context.expose_function("__registryCspViolation", lambda violation: csp_violations.append(violation))
        context.add_init_script(CSP_LISTENER)
        context.on("console", lambda message: _console_csp(message, csp_violations))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(map(str, csp_violations))


def _console_csp(message, violations: list) -> None:
    if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
        violations.append({"console": message.text, "page": message.page.url if message.page else ""})


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def world(db):
    """The registry the scenarios run in (tests/browser/world.py): users, and patients dated relative
    to today, one of them overdue for a scan."""
    return build_world()


@pytest.fixture
def coordinator_page(page, world):
    """A page of the coordinator, logged in by keyboard, on the worklist."""
    pages.log_in(page, world.coordinator.username)
    return page
