"""/api/v1/queries/ (registry/api/queries.py): the REST door of the query lifecycle, under the same access
rule as the workspace: each role and site, each transition, refusals that write nothing, filters and
the list's fixed number of queries."""
import pytest

from registry.models import Query, QueryMessage, QueryState, Role
from registry.services.queries import query_close, query_open
from tests import factories
from tests.access_roles import SEES, roles, user_for, world  # noqa: F401 (world is a fixture)

from .conftest import token_client

pytestmark = pytest.mark.django_db
LIST = "/api/v1/queries/"
# From the rule (registry/services/queries.py): who opens, responds, closes (besides the opener).
OPENS = {"administrator": "AB", "investigator": "AB", "data manager": "AB"}
RESPONDS = {"administrator": "AB", "coordinator of A": "A", "coordinator of A and B": "AB"}
CLOSES = {"administrator": "AB", "data manager": "AB"}


def refusal(role: str, site: str) -> int:
    """A user without a registry role is refused at the door (403); a query of a site one does not see
    does not exist for them (404, no oracle); one they see but may not act on, 403."""
    return 403 if not SEES[role] or site in SEES[role] else 404


def _count():
    return Query.objects.count(), QueryMessage.objects.count()


@pytest.fixture
def opener(db):
    return factories.make_user("dm_opener", role=Role.DATA_MANAGER)


def _open(patient, opener, **target):
    return query_open(patient=patient, user=opener, text="Please check.", **target)


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_opening_through_the_api_follows_the_role_and_site(world, role, site):
    client = token_client(user_for(role, world, "asker"))
    before = _count()

    response = client.post(LIST, {"record_id": world.patients[site].record_id, "form": "treatment_line",
                                  "instance": 1, "field": "line_start", "text": "Start date?"}, format="json")

    if site in OPENS.get(role, ""):
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["record_id"], body["form"], body["instance"], body["field"], body["state"]) == (
            world.patients[site].record_id, "treatment_line", 1, "line_start", "open")
        assert [(m["transition"], m["author"], m["text"]) for m in body["messages"]] == [("open", "asker", "Start date?")]
        assert response["Location"].endswith(f"/api/v1/queries/{body['id']}/")
    else:
        assert response.status_code == refusal(role, site)
        assert _count() == before


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_responding_through_the_api_follows_the_role_and_site(world, opener, role, site):
    query = _open(world.patients[site], opener, form="enrollment", field="adv_dx_date")
    client = token_client(user_for(role, world, "answerer"))
    before = _count()

    response = client.post(f"{LIST}{query.pk}/respond/", {"text": "Correct as entered."}, format="json")

    if site in RESPONDS.get(role, ""):
        assert response.status_code == 200
        assert response.json()["state"] == "responded"
        assert response.json()["messages"][-1]["author"] == "answerer"
    else:
        assert response.status_code == refusal(role, site)
        assert _count() == before


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_closing_and_reopening_through_the_api_follow_the_role_and_site(world, opener, role, site):
    query = _open(world.patients[site], opener)
    client = token_client(user_for(role, world, "closer"))
    before = _count()

    closed = client.post(f"{LIST}{query.pk}/close/", {}, format="json")

    if site in CLOSES.get(role, ""):
        assert (closed.status_code, closed.json()["state"]) == (200, "closed")
        reopened = client.post(f"{LIST}{query.pk}/reopen/", {"text": "Still wrong."}, format="json")
        assert (reopened.status_code, reopened.json()["state"], reopened.json()["closed_at"]) == (200, "open", None)
    else:
        assert closed.status_code == refusal(role, site)
        assert _count() == before


@roles
def test_the_list_holds_the_queries_of_the_sites_a_role_sees_and_none_other(world, opener, role):
    for site in "AB":
        _open(world.patients[site], opener)
    client = token_client(user_for(role, world, "reader"))

    response = client.get(LIST)

    if not SEES[role]:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert {row["record_id"] for row in response.json()["results"]} == {world.patients[s].record_id for s in SEES[role]}


def test_a_coordinator_of_site_a_can_neither_read_nor_answer_a_query_of_site_b(world, opener):
    query_b = _open(world.patients["B"], opener)
    client = token_client(user_for("coordinator of A", world, "coord_a"))

    read = client.get(f"{LIST}{query_b.pk}/")
    answered = client.post(f"{LIST}{query_b.pk}/respond/", {"text": "Mine now."}, format="json")

    assert (read.status_code, answered.status_code) == (404, 404)
    assert Query.objects.get(pk=query_b.pk).state == QueryState.OPEN
    assert query_b.messages.count() == 1


def test_closing_a_closed_query_is_a_conflict_that_writes_nothing(world, opener):
    query = _open(world.patients["A"], opener)
    query_close(query=query, user=opener)
    client = token_client(opener)
    before = _count()

    response = client.post(f"{LIST}{query.pk}/close/", {"text": "again"}, format="json")

    assert response.status_code == 409
    assert f"Query {query.pk} on record P-A is Closed" in response.json()["detail"]
    assert _count() == before


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"form": "treatment_line", "instance": 7}, "instance", "Record P-A has no instance 7 of treatment_line."),
    ({"form": "biopsy", "instance": 1, "field": "les_id"}, "field",
     "Record P-A: 'les_id' is not a field of the instrument biopsy."),
    ({"form": "no_form"}, "form", '"no_form" is not a valid choice.'),
    ({"text": ""}, "text", "This field may not be blank."),
    ({"colour": "red"}, "colour", "is not a field of this request"),
])
def test_an_invalid_query_is_refused_naming_the_field_and_nothing_is_written(world, opener, body, field, reason):
    client = token_client(opener)
    before = _count()

    response = client.post(LIST, {"record_id": "P-A", "text": "Check.", **body}, format="json")

    assert response.status_code == 400
    assert [(e["field"], e["reason"]) for e in response.json()["errors"]] == [(field, reason)]
    assert _count() == before


def test_the_list_filters_by_site_state_and_record(world, opener):
    p_a2 = factories.make_full_patient(world.sites["A"], "P-A2")
    open_a = _open(world.patients["A"], opener)
    closed_a2 = query_close(query=_open(p_a2, opener), user=opener)
    open_b = _open(world.patients["B"], opener)
    client = token_client(opener)

    def ids(**params):
        response = client.get(LIST, params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {open_a.pk, closed_a2.pk, open_b.pk}
    assert ids(site="site-a") == {open_a.pk, closed_a2.pk}
    assert ids(state="closed") == {closed_a2.pk}
    assert ids(record="P-A2") == {closed_a2.pk}
    assert ids(record=["P-A", "P-B"]) == {open_a.pk, open_b.pk}
    assert ids(site="site-b", state="open") == {open_b.pk}
    assert client.get(LIST, {"state": "pending"}).status_code == 400


@pytest.mark.parametrize("count", [2, 12])
def test_a_page_of_queries_takes_four_queries_whatever_their_number(world, opener, django_assert_num_queries, count):
    for _ in range(count):
        _open(world.patients["A"], opener, form="enrollment", field="adv_dx_date")
    client = token_client(user_for("coordinator of A", world, "coord"))
    client.get(LIST)  # the token's last-use time written once, as in a running client

    # 1 the token with its user, 2 the user's role, 3 their sites (access_for), 4 the page: queries of
    # the sites seen with record, site and opener joined (one row more, to know whether a next page exists).
    with django_assert_num_queries(4):
        response = client.get(LIST)
    assert len(response.json()["results"]) == count


def test_format_csv_gives_every_query_of_the_filters_in_one_file(world, opener):
    open_a = _open(world.patients["A"], opener, form="treatment_line", instance=1, field="line_start")
    _open(world.patients["B"], opener)
    client = token_client(user_for("coordinator of A", world, "coord"))

    response = client.get(LIST, {"format": "csv"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    # The header, then site A's query only (the coordinator does not see site B's).
    assert lines[0].startswith("query_id,site,record_id,instrument,instance,field,state,opened_by,opened_at")
    assert lines[1].startswith(f"{open_a.pk},site-a,P-A,treatment_line,1,line_start,open,dm_opener,")
    assert len(lines) == 2
    assert client.get(LIST, {"format": "xml"}).status_code == 400
