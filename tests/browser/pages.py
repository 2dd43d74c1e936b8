"""What a person does in the browser, and what the tests check on every page.

Keyboard helpers move the focus with Tab and act with typing, Space, arrows and Enter, as a person
without a mouse would: a field that Tab cannot reach fails the test.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from tests.browser.world import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
TAB_LIMIT = 150  # more Tab presses than any of our pages needs to reach a field
SERIOUS = ("serious", "critical")


# Keyboard ------------------------------------------------------------------------------------------

def has_focus(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, *, limit: int = TAB_LIMIT) -> None:
    """Press Tab until `locator` has the focus."""
    locator.wait_for(state="visible")
    for _ in range(limit):
        if has_focus(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator} in {limit} presses: not reachable by keyboard?")


def type_into(page, locator, text: str) -> None:
    """Tab to a text field, replace its value by typing."""
    tab_to(page, locator)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def choose_radio(page, radio) -> None:
    """Tab into the radio group, move to `radio` with the arrow keys, select it with Space."""
    radio.wait_for(state="attached")
    name = radio.get_attribute("name")
    for _ in range(TAB_LIMIT):
        if page.evaluate("name => document.activeElement && document.activeElement.name === name", name):
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError(f"Tab never reached the radio group {name!r}")
    for _ in range(20):
        if has_focus(radio):
            break
        page.keyboard.press("ArrowDown")
    else:
        raise AssertionError(f"The arrow keys never reached {radio} in its group {name!r}")
    page.keyboard.press("Space")
    assert radio.is_checked()


def tick(page, checkbox) -> None:
    tab_to(page, checkbox)
    if not checkbox.is_checked():
        page.keyboard.press("Space")
    assert checkbox.is_checked()


def activate(page, locator) -> None:
    """Tab to a link or button and press Enter."""
    tab_to(page, locator)
    page.keyboard.press("Enter")


def choose_option(page, select, label: str) -> None:
    """Tab to a drop-down and type the start of an option's label (the browser selects it as one types)."""
    tab_to(page, select)
    page.keyboard.type(label)
    chosen = select.evaluate("element => element.options[element.selectedIndex].text")
    assert chosen.startswith(label), f"typing {label!r} chose {chosen!r}"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through /login/ by keyboard; lands on the worklist."""
    page.goto("/login/")
    type_into(page, page.get_by_label("Username"), username)
    type_into(page, page.get_by_label("Password"), password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def set_field(form, name: str, value: str) -> None:
    """Enter `value` into the field `name` of `form` whatever its widget (text, drop-down, radio group,
    tick box), as the pointer would: for the forms whose tests are not about the keyboard."""
    fields = form.locator(f'[name="{name}"]')
    first = fields.first
    kind = first.evaluate("element => element.tagName === 'SELECT' ? 'select' : (element.type || 'text')")
    if kind == "select":
        first.select_option(value)
    elif kind == "radio":
        form.locator(f'[name="{name}"][value="{value}"]').check()
    elif kind == "checkbox":
        form.locator(f'[name="{name}"][value="{value}"]').check() if fields.count() > 1 else first.check()
    else:
        first.fill(value)


def audit_trail_url(patient) -> str:
    """The admin's audit trail of a patient (registry/admin/audit.py)."""
    return reverse("admin:registry_patient_audit_trail", args=[patient.pk])


# Checks on every page ------------------------------------------------------------------------------

def serious_accessibility_violations(page) -> list[str]:
    """axe-core's violations of impact serious or critical, one line each (rule, impact, where)."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                    for node in violation["nodes"][:5])
        for violation in results.response["violations"] if violation["impact"] in SERIOUS
    ]


def assert_accessible(page) -> None:
    violations = serious_accessibility_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)


def horizontal_overflow_px(page) -> int:
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def assert_no_horizontal_scroll(page) -> None:
    overflow = horizontal_overflow_px(page)
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px at {page.viewport_size['width']} px"


class Navigations:
    """Counts the main frame's navigations (a link followed, a form posted and redirected: one each;
    htmx requests are not navigations and are not counted)."""

    def __init__(self, page):
        self.urls: list[str] = []
        self._page = page
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame == self._page.main_frame:
            self.urls.append(frame.url)

    def reset(self) -> None:
        self.urls.clear()

    @property
    def count(self) -> int:
        return len(self.urls)


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png for the README, only when REGISTRY_SCREENSHOTS=1 (so that ordinary runs
    leave the tree as it is)."""
    if os.environ.get("REGISTRY_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
