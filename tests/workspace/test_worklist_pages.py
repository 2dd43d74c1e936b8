"""The worklist and records pages (registry/workspace/views/worklist.py): who sees what, filters and
sorting, the htmx fragment, refusals of values the page does not offer, and the page's fixed number of
queries. The categories' rules are hand-worked in test_worklist_categories.py."""
import re

import pytest
from django.urls import reverse

from registry.models import Role
from registry.selectors.worklist import CATEGORIES
from registry.services.queries import query_open
from tests import factories
from tests.access_roles import SEES, roles, user_for, world  # noqa: F401 (world is a fixture)

from .test_worklist_categories import derived_with_flags

WORKLIST = "/"
RECORDS = "/records/"
# A flag naming the assessment of make_full_patient (2020-03-04): its row links to that scan's page.
A_FLAG = {"code": "response_discrepancy", "message": "Line 1, assessment 2020-03-04: the response derived from "
          "the lesions (PR) differs from the reported response.", "form": "tumor_assessment", "instance": "2020-03-04"}


def record_links(response) -> set[str]:
    """The record IDs the page links to (the rows' first column; not the menu's "enrol a patient")."""
    return set(re.findall(r'href="/records/([^/"]+)/"', response.content.decode())) - {"new"}


@pytest.fixture
def flagged_world(world):
    # make_full_patient: a line ongoing since 2020 with its last scan in 2020 (scan overdue), last known
    # alive 2023-11-20 (vital status due), every instance Incomplete, just written (changed recently);
    # one data-quality flag each, one open query each: both patients are in every category.
    opener = factories.make_user("query_opener", role=Role.DATA_MANAGER)
    for patient in world.patients.values():
        derived_with_flags(patient, [A_FLAG])
        query_open(patient=patient, user=opener, text="Is the line start right?", form="treatment_line", instance=1,
                   field="line_start")
    return world


# ---------------------------------------------------------------- who sees what


def test_login_lands_on_the_worklist(client, site_a):
    factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])

    response = client.post(reverse("workspace:login"), {"username": "coordinator_a", "password": "pw-for-tests-only"})

    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get(response["Location"]).status_code == 200


def test_someone_not_logged_in_is_sent_to_log_in(client, db):
    for page in (WORKLIST, RECORDS, "/?category=recent"):
        response = client.get(page)
        next_page = page.replace("?", "%3F").replace("=", "%3D")
        assert (response.status_code, response["Location"]) == (302, f"/login/?next={next_page}")


@roles
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_role_sees_in_every_category_the_records_of_its_sites_and_none_other(client, flagged_world, role,
                                                                                    category):
    client.force_login(user_for(role, flagged_world, "reader"))

    response = client.get(WORKLIST, {"category": category})

    assert response.status_code == 200
    expected = {flagged_world.patients[site].record_id for site in SEES[role]}
    assert record_links(response) == expected
    counts = {tab.key: tab.count for tab in response.context["tabs"]}
    flags_and_forms = {"data_quality_flags": 1, "incomplete_forms": 7}  # per patient: 1 flag, 7 instances
    assert counts[category] == len(expected) * flags_and_forms.get(category, 1)


@roles
def test_the_records_page_lists_the_records_of_the_users_sites_and_none_other(client, world, role):
    client.force_login(user_for(role, world, "reader"))

    response = client.get(RECORDS)

    assert response.status_code == 200
    assert record_links(response) == {world.patients[site].record_id for site in SEES[role]}


def test_a_user_without_a_role_gets_an_explanation_not_an_error(client, world):
    client.force_login(factories.make_user("nobody"))

    worklist, records = client.get(WORKLIST), client.get(RECORDS)

    assert (worklist.status_code, records.status_code) == (200, 200)
    for response in (worklist, records):
        assert "Your account has no registry role, or no site" in response.content.decode()
        assert record_links(response) == set()


def test_a_coordinator_enters_the_overdue_scan_and_a_viewer_opens_the_read_only_record(client, world):
    coordinator, viewer = user_for("coordinator of A", world, "coordinator"), user_for("viewer of A", world, "viewer")

    client.force_login(coordinator)
    writer_page = client.get(WORKLIST, {"category": "overdue_scan"}).content.decode()
    client.force_login(viewer)
    reader_page = client.get(WORKLIST, {"category": "overdue_scan"}).content.decode()

    assert 'href="/records/P-A/scans/new/"' in writer_page and "Enter the scan" in writer_page
    assert "/scans/new/" not in reader_page and "Enter the scan" not in reader_page
    assert "Open the record" in reader_page


def test_codes_are_shown_as_labels_and_dates_as_iso(client, world):
    client.force_login(user_for("coordinator of A", world))

    overdue = client.get(WORKLIST, {"category": "overdue_scan"}).content.decode()
    vital = client.get(WORKLIST, {"category": "vital_status"}).content.decode()

    assert "Line 1 · Alectinib" in overdue and "ALK tyrosine kinase inhibitor" in overdue
    assert "2020-03-04" in overdue  # the last scan
    assert "<td>Alive</td>" in vital and "2023-11-20" in vital


# ---------------------------------------------------------------- filters, sorting, pages, htmx


def test_the_site_filter_keeps_one_of_the_users_sites(client, flagged_world):
    client.force_login(user_for("investigator", flagged_world))

    response = client.get(WORKLIST, {"category": "vital_status", "site": "site-b"})

    assert record_links(response) == {"P-B"}
    assert all("site=site-b" in tab.url for tab in response.context["tabs"])


def test_sorting_by_record_id_both_ways_and_the_headings_say_which_way(client, site_a):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    for record_id in ("P-2", "P-1", "P-3"):
        factories.make_patient(site_a, record_id)
    client.force_login(coordinator)

    ascending = client.get(WORKLIST, {"category": "vital_status", "sort": "record_id"})
    descending = client.get(WORKLIST, {"category": "vital_status", "sort": "-record_id"})

    assert [row.record_id for row in ascending.context["worklist"].rows] == ["P-1", "P-2", "P-3"]
    assert [row.record_id for row in descending.context["worklist"].rows] == ["P-3", "P-2", "P-1"]
    heading = 'aria-sort="{}"><a id="sort-record_id" href="/?category=vital_status&amp;sort={}"'
    assert heading.format("ascending", "-record_id") in ascending.content.decode()  # a click turns it around
    assert heading.format("descending", "record_id") in descending.content.decode()


def test_pages_of_fifty_link_to_each_other(client, site_a):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    for number in range(1, 52):
        factories.make_patient(site_a, f"P-{number:03d}")
    client.force_login(coordinator)

    first = client.get(WORKLIST, {"category": "vital_status", "sort": "record_id"})
    second = client.get(WORKLIST, {"category": "vital_status", "sort": "record_id", "page": "2"})

    assert (len(first.context["worklist"].rows), first.context["next_url"]) == (
        50, "/?category=vital_status&sort=record_id&page=2")
    assert [row.record_id for row in second.context["worklist"].rows] == ["P-051"]
    assert second.context["previous_url"] == "/?category=vital_status&sort=record_id"
    assert "Rows 51–51 of 51" in second.content.decode()


def test_an_htmx_request_gets_the_list_part_only_and_a_plain_one_the_whole_page(client, world):
    client.force_login(user_for("coordinator of A", world))

    fragment = client.get(WORKLIST, {"category": "recent"}, headers={"HX-Request": "true"})
    page = client.get(WORKLIST, {"category": "recent"})

    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.content.decode() and '<div id="worklist-region"' in fragment.content.decode()
    assert "<html" in page.content.decode() and '<div id="worklist-region"' in page.content.decode()
    assert "HX-Request" in fragment["Vary"] and "HX-Request" in page["Vary"]


@pytest.mark.parametrize("query, message", [
    ("?category=everything", "Unknown worklist category"),
    ("?sort=mrn", "Unknown sort"),
    ("?site=site-b", "No site"),
    ("?page=-1", "The page must be 1 or more"),
])
def test_a_value_the_worklist_does_not_offer_is_answered_400_with_what_it_does(client, world, query, message):
    client.force_login(user_for("coordinator of A", world))

    response = client.get(WORKLIST + query)

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("page", [WORKLIST, RECORDS])
@pytest.mark.parametrize("name", ["category", "site", "sort", "page", "q"])
def test_a_nul_character_in_any_parameter_is_a_bad_request_not_a_server_error(client, world, page, name):
    client.force_login(user_for("investigator", world))

    response = client.get(page, {name: "a\x00b"})

    assert response.status_code in (200, 400)  # a parameter a page does not read is ignored
    if (page, name) in ((WORKLIST, "category"), (WORKLIST, "site"), (WORKLIST, "sort"), (RECORDS, "q")):
        assert response.status_code == 400


def test_the_records_page_searches_by_record_id_prefix_and_filters_by_site(client, site_a, site_b):
    investigator = factories.make_user(role=Role.INVESTIGATOR)
    for site, record_id in ((site_a, "WU-001"), (site_a, "WU-002"), (site_b, "wu-003"), (site_a, "XY-001")):
        factories.make_patient(site, record_id)
    client.force_login(investigator)

    found = client.get(RECORDS, {"q": "wu-"})
    at_a = client.get(RECORDS, {"q": "WU", "site": "site-a"})
    refused = client.get(RECORDS, {"site": "nowhere"})

    assert record_links(found) == {"WU-001", "WU-002", "wu-003"}
    assert record_links(at_a) == {"WU-001", "WU-002"}
    assert refused.status_code == 400


# ---------------------------------------------------------------- queries


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_worklist_costs_the_same_queries_for_one_patient_and_for_twenty_five(
    client, site_a, django_assert_num_queries, category,
):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    opener = factories.make_user(role=Role.DATA_MANAGER)
    client.force_login(coordinator)

    def add_patients(count):
        for _ in range(count):
            patient = factories.make_full_patient(site_a)
            derived_with_flags(patient, [A_FLAG, A_FLAG])
            query_open(patient=patient, user=opener, text="Which date?", form="tumor_assessment", instance=1)

    # 1 the session, 2 the user, 3 the user's registry role, 4 the coordinator's sites (access_for,
    # once per request), 5 the sites the user sees (filter, codes), 6 the workspace settings,
    # 7-12 one COUNT per category (overdue scans, vital status, SUM of flags, open and responded
    # queries, the UNION ALL of the forms' instances, recent changes), 13 the shown category's page of
    # rows (the queries' with their record and first message as a subquery); on the flags' page,
    # 14 the instances the flags name (one UNION ALL), for links to their pages.
    expected = 14 if category == "data_quality_flags" else 13
    add_patients(1)
    with django_assert_num_queries(expected):
        one = client.get(WORKLIST, {"category": category})
    add_patients(24)
    with django_assert_num_queries(expected):
        twenty_five = client.get(WORKLIST, {"category": category})

    assert len(one.context["worklist"].rows) < len(twenty_five.context["worklist"].rows)


def test_the_records_page_costs_the_same_queries_for_one_patient_and_for_twenty_five(
    client, site_a, django_assert_num_queries,
):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    client.force_login(coordinator)

    # 1 the session, 2 the user, 3 the user's registry role, 4 the coordinator's sites (access_for),
    # 5 the sites the user sees (filter, codes), 6 the COUNT of the records found, 7 their page.
    factories.make_full_patient(site_a)
    with django_assert_num_queries(7):
        one = client.get(RECORDS)
    for _ in range(24):
        factories.make_full_patient(site_a)
    with django_assert_num_queries(7):
        twenty_five = client.get(RECORDS)

    assert (len(one.context["rows"]), len(twenty_five.context["rows"])) == (1, 25)
