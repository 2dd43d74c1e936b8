"""Queries' lifecycle (registry/services/queries.py): who may open, respond, close and reopen, for every
role of tests/access_roles.py at sites A and B; each transition's states; refusals that write nothing.

Expected rights, from the issue (§2) and the access table: open = data manager, investigator,
administrator (every site); respond = the site's coordinator and administrators; close and reopen =
data managers, administrators, and whoever opened the query."""
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Query, QueryMessage, QueryState, QueryTransition, Role
from registry.services.queries import (
    QueryInvalid, QueryNotAllowed, allowed_transitions, query_close, query_comment, query_open, query_reopen,
    query_respond,
)
from tests import factories
from tests.access_roles import CASES, ROLE_CASES, roles, user_for, world  # noqa: F401 (world is a fixture)

pytestmark = pytest.mark.django_db

# Who may do what, per case name of tests/access_roles.py, at which sites (worked out from the rule above).
OPENS = {"administrator": "AB", "investigator": "AB", "data manager": "AB"}
RESPONDS = {"administrator": "AB", "coordinator of A": "A", "coordinator of A and B": "AB"}
CLOSES = {"administrator": "AB", "data manager": "AB"}  # besides the query's opener


def _count() -> tuple[int, int]:
    return Query.objects.count(), QueryMessage.objects.count()


def _open_by_data_manager(patient, **target):
    data_manager = factories.make_user("dm_opener", role=Role.DATA_MANAGER)
    return query_open(patient=patient, user=data_manager, text="Please check the start date.", **target)


def test_every_role_of_the_access_table_is_a_case_here():
    assert {name for name, _case in ROLE_CASES.values()} <= set(CASES)


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_who_may_open_a_query_at_each_site(world, role, site):
    user = user_for(role, world, "asker")
    patient = world.patients[site]
    before = _count()

    if site in OPENS.get(role, ""):
        query = query_open(patient=patient, user=user, text="Is line 1 really ongoing?", form="treatment_line",
                           instance=1, field="line_end")
        assert (query.state, query.opened_by, query.closed_at) == (QueryState.OPEN, user, None)
        message = query.messages.get()
        assert (message.author, message.transition, message.state_after, message.text) == (
            user, QueryTransition.OPEN, QueryState.OPEN, "Is line 1 really ongoing?")
    else:
        with pytest.raises(QueryNotAllowed, match=f"Record {patient.record_id}: your role may not open queries"):
            query_open(patient=patient, user=user, text="?", form="treatment_line", instance=1, field="line_end")
        assert _count() == before


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_who_may_respond_to_a_query_at_each_site(world, role, site):
    query = _open_by_data_manager(world.patients[site], form="enrollment", field="adv_dx_date")
    user = user_for(role, world, "answerer")
    before = _count()

    if site in RESPONDS.get(role, ""):
        answered = query_respond(query=query, user=user, text="Checked against the chart: correct.")
        assert answered.state == QueryState.RESPONDED
        last = answered.messages.last()
        assert (last.author, last.transition, last.state_after) == (user, QueryTransition.RESPOND,
                                                                    QueryState.RESPONDED)
    else:
        with pytest.raises(QueryNotAllowed, match="your role may not answer it"):
            query_respond(query=query, user=user, text="Correct.")
        assert _count() == before
        assert Query.objects.get(pk=query.pk).state == QueryState.OPEN


@roles
@pytest.mark.parametrize("site", ["A", "B"])
def test_who_may_close_and_reopen_a_query_they_did_not_open(world, role, site):
    query = _open_by_data_manager(world.patients[site])
    user = user_for(role, world, "closer")
    before = _count()

    if site in CLOSES.get(role, ""):
        closed = query_close(query=query, user=user, text="Resolved.")
        assert (closed.state, closed.closed_at is not None) == (QueryState.CLOSED, True)
        reopened = query_reopen(query=closed, user=user, text="The date is still wrong.")
        assert (reopened.state, reopened.closed_at) == (QueryState.OPEN, None)
        assert [m.transition for m in reopened.messages.all()] == ["open", "close", "reopen"]
    else:
        with pytest.raises(QueryNotAllowed, match="your role may not close it"):
            query_close(query=query, user=user)
        assert _count() == before


def test_the_investigator_who_opened_a_query_may_close_and_reopen_it_though_his_role_closes_none(world):
    investigator = user_for("investigator", world, "investigator")
    other_investigator = user_for("investigator", world, "colleague")
    query = query_open(patient=world.patients["B"], user=investigator, text="Which drug?", form="treatment_line",
                       instance=1, field="line_drug")

    with pytest.raises(QueryNotAllowed):
        query_close(query=query, user=other_investigator)
    closed = query_close(query=query, user=investigator)
    reopened = query_reopen(query=closed, user=investigator, text="Still unclear.")

    assert (closed.state, reopened.state) == (QueryState.CLOSED, QueryState.OPEN)


def test_the_whole_lifecycle_is_audited_with_who_and_when_in_order(world):
    data_manager = user_for("data manager", world, "dm")
    coordinator = user_for("coordinator of A", world, "coord")
    start = timezone.now()

    query = query_open(patient=world.patients["A"], user=data_manager, text="Biopsy date?", form="biopsy",
                       instance=1, field="bx_date")
    query = query_respond(query=query, user=coordinator, text="Corrected to 2022-01-25.")
    query = query_comment(query=query, user=data_manager, text="Thanks.")
    query = query_close(query=query, user=data_manager)
    query = query_reopen(query=query, user=data_manager, text="The form still shows the old date.")
    query = query_respond(query=query, user=coordinator, text="Saved now.")
    query = query_close(query=query, user=data_manager, text="OK.")

    thread = list(query.messages.all())
    assert [(m.transition, m.state_after, m.author.username) for m in thread] == [
        ("open", "open", "dm"), ("respond", "responded", "coord"), ("comment", "responded", "dm"),
        ("close", "closed", "dm"), ("reopen", "open", "dm"), ("respond", "responded", "coord"),
        ("close", "closed", "dm"),
    ]
    times = [m.created_at for m in thread]
    assert times == sorted(times) and times[0] >= start
    assert all(moment.utcoffset() == timedelta(0) for moment in times)  # aware, UTC
    assert query.closed_at == thread[-1].created_at
    # The row's own history (django-simple-history): one version per message (the comment changes no
    # state but saves updated_at), 7 rows, each naming who made it.
    assert query.history.count() == 7
    assert list(query.history.order_by("history_date").values_list("state", "history_user__username")) == [
        ("open", "dm"), ("responded", "coord"), ("responded", "dm"), ("closed", "dm"), ("open", "dm"),
        ("responded", "coord"), ("closed", "dm")]


@pytest.mark.parametrize(("state_path", "transition"), [
    ((), "reopen"),  # an open query is not reopened
    (("respond",), "respond"),  # a responded query is not answered again
    (("close",), "respond"),  # a closed query is not answered
    (("close",), "close"),  # nor closed twice
    (("respond",), "reopen"),
])
def test_an_illegal_transition_is_refused_naming_the_state_and_writes_nothing(world, state_path, transition):
    data_manager = user_for("data manager", world, "dm")
    administrator = user_for("administrator", world, "admin")  # may make every transition: only the state refuses
    query = query_open(patient=world.patients["A"], user=data_manager, text="Check.")
    for step in state_path:
        query = {"respond": query_respond, "close": query_close}[step](query=query, user=administrator, text="x")
    state = Query.objects.get(pk=query.pk).state
    before = (_count(), query.history.count())
    service = {"respond": query_respond, "close": query_close, "reopen": query_reopen}[transition]

    with pytest.raises(QueryInvalid, match=f"Query {query.pk} on record P-A is {QueryState(state).label}"):
        service(query=query, user=administrator, text="again")

    assert (_count(), query.history.count()) == before
    assert Query.objects.get(pk=query.pk).state == state


@pytest.mark.parametrize(("target", "message"), [
    ({"form": "no_such_form"}, r"Record P-A: 'no_such_form' is not an instrument of the registry"),
    ({"form": "treatment_line"}, "Record P-A: treatment_line repeats; say which instance."),
    ({"form": "treatment_line", "instance": 9}, "Record P-A has no instance 9 of treatment_line."),
    ({"form": "enrollment", "instance": 1}, "Record P-A: enrollment does not repeat; it has no instance 1."),
    ({"form": "biopsy", "instance": 1, "field": "line_start"},
     "Record P-A: 'line_start' is not a field of the instrument biopsy."),
    ({"form": "enrollment", "field": "record_id"}, "Record P-A: 'record_id' is not a field of the instrument"),
    ({"field": "bx_date"}, "Record P-A: field 'bx_date' needs its instrument."),
    ({"instance": 1}, "Record P-A: instance 1 needs an instrument."),
    ({"text": "   "}, r"Record P-A: say what the query is about \(the text is empty\)."),
])
def test_a_query_on_something_the_record_does_not_have_is_refused_and_nothing_is_written(world, target, message):
    data_manager = user_for("data manager", world, "dm")
    before = _count()

    with pytest.raises(QueryInvalid, match=message):
        query_open(patient=world.patients["A"], user=data_manager, **{"text": "Check.", **target})

    assert _count() == before


def test_a_query_may_be_about_the_record_an_instance_or_a_field(world):
    data_manager = user_for("data manager", world, "dm")
    patient = world.patients["A"]

    on_record = query_open(patient=patient, user=data_manager, text="Consent on file?")
    on_instance = query_open(patient=patient, user=data_manager, text="Duplicate?", form="local_therapy", instance=1)
    on_field = query_open(patient=patient, user=data_manager, text="Date?", form="vital_status", field="last_alive_date")

    assert [q.target_label for q in (on_record, on_instance, on_field)] == [
        "P-A", "P-A local_therapy #1", "P-A vital_status last_alive_date"]


def test_the_buttons_offered_follow_the_role_and_the_state(world):
    data_manager = user_for("data manager", world, "dm")
    coordinator = user_for("coordinator of A", world, "coord")
    viewer = user_for("viewer of A", world, "viewer")
    query = query_open(patient=world.patients["A"], user=data_manager, text="Check.")

    assert allowed_transitions(coordinator, query) == ["respond", "comment"]
    assert allowed_transitions(data_manager, query) == ["close", "comment"]
    assert allowed_transitions(viewer, query) == []
    closed = query_close(query=query, user=data_manager)
    assert allowed_transitions(coordinator, closed) == ["comment"]
    assert allowed_transitions(data_manager, closed) == ["reopen", "comment"]
