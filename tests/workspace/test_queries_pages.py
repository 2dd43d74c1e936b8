"""Queries in the workspace (registry/workspace/views/queries.py): the "new query" page and its link
contract, the query page's thread and buttons per role, site isolation, the list's filters and figures,
the CSV for monitoring, the worklist's category and the markers on the form pages."""
import csv
import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from registry.models import Query, QueryMessage, QueryState, Role
from registry.services.queries import query_close, query_open, query_respond
from tests import factories
from tests.access_roles import SEES, roles, user_for, world  # noqa: F401 (world is a fixture)

pytestmark = pytest.mark.django_db
OPENS = {"administrator": "AB", "investigator": "AB", "data manager": "AB"}
RESPONDS = {"administrator": "AB", "coordinator of A": "A", "coordinator of A and B": "AB"}
CLOSES = {"administrator": "AB", "data manager": "AB"}


def _count():
    return Query.objects.count(), QueryMessage.objects.count()


@pytest.fixture
def opener(db):
    return factories.make_user("dm_opener", role=Role.DATA_MANAGER)


def test_the_new_query_page_is_prefilled_from_its_link(client, world, opener):
    client.force_login(opener)
    params = {"form": "treatment_line", "instance": "1", "field": "line_start", "text": "Start after diagnosis?",
              "next": "/records/P-A/treatment_line/1/"}

    response = client.get(reverse("workspace:query_new", args=["P-A"]) + "?" + urlencode(params))

    assert response.status_code == 200
    form = response.context["form"]
    assert {name: form[name].value() for name in params} == params


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_opening_a_query_in_the_workspace_follows_the_role_and_site(client, world, role, site):
    client.force_login(user_for(role, world, "asker"))
    record_id = world.patients[site].record_id
    before = _count()

    response = client.post(reverse("workspace:query_new", args=[record_id]), {
        "form": "biopsy", "instance": "1", "field": "bx_date", "text": "Is this the date of the sample?",
        "next": f"/records/{record_id}/biopsy/1/"})

    if site in OPENS.get(role, ""):
        assert (response.status_code, response["Location"]) == (302, f"/records/{record_id}/biopsy/1/")
        query = Query.objects.get()
        assert (query.patient.record_id, query.form, query.instance_number, query.field, query.state) == (
            record_id, "biopsy", 1, "bx_date", "open")
    else:
        # A record of a site one does not see is not found; one seen but not queryable is forbidden.
        assert response.status_code == (403 if site in SEES[role] else 404)
        assert _count() == before


def test_a_next_address_on_another_host_is_not_followed(client, world, opener):
    client.force_login(opener)

    response = client.post(reverse("workspace:query_new", args=["P-A"]), {
        "text": "Consent?", "next": "https://elsewhere.example/steal"})

    query = Query.objects.get()
    assert response["Location"] == reverse("workspace:query", args=[query.pk])


def test_an_invalid_target_shows_the_error_on_its_field_and_writes_nothing(client, world, opener):
    client.force_login(opener)

    response = client.post(reverse("workspace:query_new", args=["P-A"]), {
        "form": "treatment_line", "instance": "4", "field": "line_start", "text": "Check."})

    assert response.status_code == 200
    assert response.context["form"].errors["instance"] == ["Record P-A has no instance 4 of treatment_line."]
    assert _count() == (0, 0)


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_the_query_page_offers_each_role_the_buttons_of_its_rights(client, world, opener, role, site):
    query = query_open(patient=world.patients[site], user=opener, text="Vital status?", form="vital_status",
                       field="vital")
    client.force_login(user_for(role, world, "reader"))

    response = client.get(reverse("workspace:query", args=[query.pk]))

    if site not in SEES[role]:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    offered = [action for action, _label in response.context["buttons"]]
    expected = (["respond"] if site in RESPONDS.get(role, "") else []) + (
        ["close"] if site in CLOSES.get(role, "") else [])
    if site in OPENS.get(role, "") or expected:
        expected.append("comment")
    assert offered == expected
    assert "Vital status?" in response.content.decode()


def test_the_lifecycle_through_the_workspace_respond_close_reopen(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="Line end?", form="treatment_line", instance=1,
                       field="line_end")
    coordinator = user_for("coordinator of A", world, "coord")
    url = reverse("workspace:query", args=[query.pk])

    client.force_login(coordinator)
    assert client.post(url, {"action": "respond", "text": "Still on treatment."}).status_code == 302
    client.force_login(opener)
    assert client.post(url, {"action": "close", "text": ""}).status_code == 302
    assert client.post(url, {"action": "reopen", "text": "Please add the end date."}).status_code == 302

    thread = [(m.transition, m.author.username) for m in Query.objects.get(pk=query.pk).messages.all()]
    assert thread == [("open", "dm_opener"), ("respond", "coord"), ("close", "dm_opener"), ("reopen", "dm_opener")]
    assert Query.objects.get(pk=query.pk).state == QueryState.OPEN


def test_a_coordinator_of_site_a_cannot_see_or_answer_a_query_of_site_b(client, world, opener):
    query_b = query_open(patient=world.patients["B"], user=opener, text="Check.")
    client.force_login(user_for("coordinator of A", world, "coord"))
    url = reverse("workspace:query", args=[query_b.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "respond", "text": "Answer."}).status_code == 404
    assert "Query " + str(query_b.pk) not in client.get(reverse("workspace:queries")).content.decode()
    assert Query.objects.get(pk=query_b.pk).state == QueryState.OPEN and query_b.messages.count() == 1


def test_a_viewer_posting_a_response_is_refused_and_nothing_is_written(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="Check.")
    client.force_login(user_for("viewer of A", world, "viewer"))
    before = _count()

    response = client.post(reverse("workspace:query", args=[query.pk]), {"action": "respond", "text": "Fine."})

    assert response.status_code == 403
    assert _count() == before


def test_an_illegal_transition_in_the_workspace_shows_the_reason_and_writes_nothing(client, world, opener):
    query = query_close(query=query_open(patient=world.patients["A"], user=opener, text="Check."), user=opener)
    client.force_login(user_for("administrator", world, "admin"))
    before = _count()

    response = client.post(reverse("workspace:query", args=[query.pk]), {"action": "respond", "text": "Late."})

    assert response.status_code == 200
    assert response.context["form"].errors["text"] == [
        f"Query {query.pk} on record P-A is Closed: it cannot be responded (only a query that is Open)."]
    assert _count() == before


def test_the_list_filters_and_the_csv_holds_the_same_rows(client, world, opener):
    administrator = user_for("administrator", world, "admin")
    open_a = query_open(patient=world.patients["A"], user=opener, text="=HYPERLINK(\"x\")")
    responded_b = query_respond(query=query_open(patient=world.patients["B"], user=opener, text="B?"),
                                user=administrator, text="Yes.")
    client.force_login(opener)

    by_state = client.get(reverse("workspace:queries"), {"state": "responded"})
    by_site = client.get(reverse("workspace:queries"), {"site": "site-a"})
    by_record = client.get(reverse("workspace:queries"), {"record": "p-b"})
    bad = client.get(reverse("workspace:queries"), {"state": "waiting"})
    exported = client.get(reverse("workspace:queries_csv"), {"site": "site-a"})

    assert [q.pk for q in by_state.context["queries"]] == [responded_b.pk]
    assert [q.pk for q in by_site.context["queries"]] == [open_a.pk]
    assert [q.pk for q in by_record.context["queries"]] == [responded_b.pk]
    assert bad.status_code == 400
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:7] == ["query_id", "site", "record_id", "instrument", "instance", "field", "state"]
    assert [row[:3] for row in rows[1:]] == [[str(open_a.pk), "site-a", "P-A"]]
    # A text a spreadsheet would run as a formula is written with a leading apostrophe.
    assert rows[1][CSV_FIRST_MESSAGE] == "'=HYPERLINK(\"x\")"


CSV_FIRST_MESSAGE = 12


def test_the_worklist_counts_and_lists_the_open_queries_of_the_coordinators_site_only(client, world, opener):
    query_open(patient=world.patients["A"], user=opener, text="A1?", form="enrollment", field="adv_dx_date")
    responded = query_open(patient=world.patients["A"], user=opener, text="A2?")
    query_respond(query=responded, user=user_for("administrator", world, "admin"), text="Done.")
    query_close(query=query_open(patient=world.patients["A"], user=opener, text="A3?"), user=opener)
    query_open(patient=world.patients["B"], user=opener, text="B1?")
    client.force_login(user_for("coordinator of A", world, "coord"))

    response = client.get("/", {"category": "open_queries"})

    counts = {tab.key: tab.count for tab in response.context["tabs"]}
    # Site A: one open and one responded (unresolved); the closed one and site B's are not counted.
    assert counts["open_queries"] == 2
    rows = response.context["worklist"].rows
    assert sorted((row.detail, row.status, row.action) for row in rows) == [
        ("A1?", "Open", "Answer the query"), ("A2?", "Responded", "Open the query")]


def test_the_form_page_marks_the_queried_field_and_offers_query_links_to_who_may_open(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="Start?", form="treatment_line", instance=1,
                       field="line_start")
    page = reverse("workspace:instance", args=["P-A", "treatment_line", 1])

    client.force_login(opener)  # a data manager reads the form read-only, with "query this field" links
    as_data_manager = client.get(page)
    client.force_login(user_for("coordinator of A", world, "coord"))
    as_coordinator = client.get(page)

    assert set(as_data_manager.context["queried_fields"]) == {"line_start"}
    for response in (as_data_manager, as_coordinator):
        html = response.content.decode()
        assert 'href="#form-query-line_start"' in html
        assert f'href="/queries/{query.pk}/"' in html
    assert "Query this field" in as_data_manager.content.decode()
    assert "Query this field" not in as_coordinator.content.decode()
    link = as_data_manager.context["query_field_url"]
    assert link.startswith("/queries/new/P-A/?form=treatment_line&instance=1&next=") and link.endswith("&field=")


def test_a_closed_query_leaves_no_marker_on_the_form(client, world, opener):
    query_close(query=query_open(patient=world.patients["A"], user=opener, text="?", form="vital_status",
                                 field="vital"), user=opener)
    client.force_login(user_for("coordinator of A", world, "coord"))

    response = client.get(reverse("workspace:record_form", args=["P-A", "vital_status"]))

    assert response.context["queried_fields"] == {}


def test_the_record_home_lists_the_records_queries(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="Consent?")
    client.force_login(user_for("coordinator of A", world, "coord"))

    response = client.get(reverse("workspace:record", args=["P-A"]))

    assert [q.pk for q in response.context["record_queries"]] == [query.pk]
    assert f'href="/queries/{query.pk}/"' in response.content.decode()


def test_the_scan_page_marks_its_queried_field_too(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="Date?", form="tumor_assessment", instance=1,
                       field="ta_date")
    page = reverse("workspace:scan", args=["P-A", 1])

    client.force_login(opener)
    read_only = client.get(page)
    client.force_login(user_for("coordinator of A", world, "coord"))
    editable = client.get(page)

    for response in (read_only, editable):
        assert set(response.context["queried_fields"]) == {"ta_date"}
        assert f'href="/queries/{query.pk}/"' in response.content.decode()
        assert 'href="#form-query-ta_date"' in response.content.decode()


def test_someone_not_logged_in_is_sent_to_log_in_from_every_query_page(client, world, opener):
    query = query_open(patient=world.patients["A"], user=opener, text="?")
    pages = [reverse("workspace:queries"), reverse("workspace:queries_csv"), reverse("workspace:query", args=[query.pk]),
             reverse("workspace:query_new", args=["P-A"])]

    for page in pages:
        response = client.get(page)
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/login/"), page


@pytest.mark.parametrize("count", [1, 8])
def test_the_csv_costs_the_same_queries_for_one_query_and_for_eight(client, world, opener, count,
                                                                    django_assert_num_queries):
    administrator = factories.make_user("csv_admin", superuser=True)
    for _ in range(count):
        query_respond(query=query_open(patient=world.patients["A"], user=opener, text="?"), user=administrator,
                      text="Yes.")
    client.force_login(user_for("coordinator of A", world, "coord"))

    # 1 the session, 2 the user, 3 the role, 4 the coordinator's sites (access_for), 5 the queries with
    # record, site and opener, 6 their messages (one prefetch).
    with django_assert_num_queries(6):
        response = client.get(reverse("workspace:queries_csv"))
    assert len(response.content.decode().strip().splitlines()) == 1 + count


@pytest.mark.parametrize("count", [1, 8])
def test_the_list_page_costs_the_same_queries_for_one_query_and_for_eight(client, world, opener, count,
                                                                          django_assert_num_queries):
    for _ in range(count):
        query_close(query=query_open(patient=world.patients["A"], user=opener, text="?"), user=opener)
    client.force_login(user_for("coordinator of A", world, "coord"))

    # 1 the session, 2 the user, 3 the role, 4 the coordinator's sites (access_for), 5 the page of
    # queries with record, site and opener, 6 the sites for the filter, then the figures: 7 the sites,
    # 8 the counts per site and state, 9 the closed queries' two times.
    with django_assert_num_queries(9):
        response = client.get(reverse("workspace:queries"))
    assert len(response.context["queries"]) == count


def test_a_data_manager_is_named_as_such_in_the_menu_beside_the_queries_link(client, world, opener):
    client.force_login(opener)

    html = client.get(reverse("workspace:queries")).content.decode()

    assert "dm_opener · data manager" in html
    assert 'href="/queries/" aria-current="page">Queries</a>' in html
