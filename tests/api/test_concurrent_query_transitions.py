"""Two closes of one query at the same moment (PostgreSQL, two threads with their own connections):
the query row is locked for each transition, so the second waits for the first, then finds the query
closed and is refused with 409; the thread holds one close, never two."""
import time

import pytest

from registry.models import QueryMessage, QueryState, Role
from registry.services import queries as services
from registry.services.queries import query_open
from tests import factories
from tests.concurrency import postgresql_only, race  # noqa: F401 (postgresql_only: an autouse fixture)

from .conftest import token_client

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_closes_at_once_close_the_query_once_and_the_second_is_a_conflict(site_a, monkeypatch):
    data_manager = factories.make_user("dm", role=Role.DATA_MANAGER)
    administrator = factories.make_user("admin", superuser=True)
    query = query_open(patient=factories.make_patient(site_a, "P-1"), user=data_manager, text="Check.")
    real_locked = services._locked

    def slow_locked(found):
        locked = real_locked(found)
        time.sleep(0.4)  # the other request arrives while this one holds the lock
        return locked

    monkeypatch.setattr(services, "_locked", slow_locked)
    clients = [token_client(data_manager), token_client(administrator)]

    answers = race([lambda c=c: c.post(f"/api/v1/queries/{query.pk}/close/", {}, format="json") for c in clients])

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    assert list(QueryMessage.objects.filter(query=query).values_list("transition", flat=True).order_by("id")) == [
        "open", "close"]
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
