"""Every page a coordinator or a data manager works in passes axe-core without a serious or critical
violation, fits 1,280 px without sideways scrolling and breaks no rule of the Content-Security-Policy
(the `page` fixtures fail the test on a violation)."""
import pytest

from registry.services.locks import instance_lock, record_lock
from registry.services.queries import query_open
from registry.services.saved_reports import saved_report_create
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


# The data-management pages (issue 12), each for the role that works in it. B-102 is locked as a whole and
# B-101's first treatment line alone (built by `data_management` below); {query} and {report} are the ids.
DATA_MANAGER_PAGES = {
    "queries list": "/queries/",
    "a query": "/queries/{query}/",
    "new query": "/queries/new/B-101/?form=enrollment&field=adv_dx_date",
    "reports list": "/reports/",
    "a report": "/reports/{report}/",
    "new report": "/reports/new/",
    "changing a report": "/reports/{report}/edit/",
    "a locked record": "/records/B-102/",
    "sign page": "/records/B-102/sign/",
    "unlock page of a record": "/records/B-102/unlock/",
    "unlock page of a form": "/records/B-101/unlock/?form=treatment_line&instance=1",
}
COORDINATOR_DATA_MANAGEMENT_PAGES = {
    "open queries on the worklist": "/?category=open_queries",
    "a query to answer": "/queries/{query}/",
    "a form with a queried field and missing-data codes": "/records/B-101/enrollment/",
    "a locked form": "/records/B-102/enrollment/",
    "a form of a locked line": "/records/B-101/treatment_line/1/",
    "a shared report": "/reports/{report}/",
}


@pytest.fixture
def data_management(world) -> dict[str, int]:
    """A query on B-101's date of diagnosis, a shared report, B-102 locked, B-101's first line locked."""
    query = query_open(patient=world.overdue, user=world.data_manager, form="enrollment", field="adv_dx_date",
                       text="The first line starts before this date: is it right?")
    report = saved_report_create(user=world.data_manager, name="Lines on alectinib", shared=True,
                                 fields=["sex", "line_drug", "line_start"], filter_logic='[line_drug] = "2"',
                                 sort_field="line_start")
    record_lock(patient=world.up_to_date, user=world.data_manager)
    instance_lock(patient=world.overdue, form="treatment_line", instance=1, user=world.data_manager)
    return {"query": query.pk, "report": report.pk}


@pytest.mark.parametrize("url", DATA_MANAGER_PAGES.values(), ids=DATA_MANAGER_PAGES.keys())
def test_a_data_managers_page_is_accessible_and_fits_the_screen(page, world, data_management, url):
    pages.log_in(page, world.data_manager.username)

    response = page.goto(url.format(**data_management))

    assert response.status == 200
    assert page.locator("main#main h1").count() >= 1
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)


@pytest.mark.parametrize("url", COORDINATOR_DATA_MANAGEMENT_PAGES.values(),
                         ids=COORDINATOR_DATA_MANAGEMENT_PAGES.keys())
def test_a_coordinators_data_management_page_is_accessible_and_fits_the_screen(coordinator_page, data_management, url):
    page = coordinator_page

    response = page.goto(url.format(**data_management))

    assert response.status == 200
    assert page.locator("main#main h1").count() >= 1
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)


def test_the_login_page_is_accessible_and_fits_the_screen(page, world):
    response = page.goto("/login/")

    assert response.status == 200
    pages.assert_accessible(page)
    pages.assert_no_horizontal_scroll(page)
