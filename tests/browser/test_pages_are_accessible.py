"""Every page a coordinator works in passes axe-core without a serious or critical violation, fits
1,280 px without sideways scrolling and breaks no rule of the Content-Security-Policy (the `page`
fixtures fail the test on a violation)."""
import pytest

from tests.browser import pages

COORDINATOR_PAGES = {
    "worklist": "/",
    "record home": "/records/B-101/",
    "new scan": "/records/B-101/scans/new/",
    "a recorded scan": "/records/B-101/scans/3/",  # the third of B-101's scans (tests/browser/world.py)
    "new treatment line": "/records/B-101/treatment_line/new/",
}


@pytest.mark.parametrize("url", COORDINATOR_PAGES.values(), ids=COORDINATOR_PAGES.keys())
def test_a_coordinators_page_is_accessible_and_fits_the_screen(coordinator_page, url):
    page = coordinator_page

    response = page.goto(url)

    assert response.status == 200
    assert page.locator("main#main h1").count() >= 1, f"{url} is not a workspace page (yet?)"
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)


def test_the_login_page_is_accessible_and_fits_the_screen(page, world):
    response = page.goto("/login/")

    assert response.status == 200
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)
