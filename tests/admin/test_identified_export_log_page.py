"""The log of identified exports in the admin: administrators list it and filter it by user, door and
date; nobody adds, changes or deletes a row; other roles do not see it at all."""
from datetime import datetime, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import ExportDoor, IdentifiedExport, Role
from tests import factories

LIST_URL = reverse("admin:registry_identifiedexport_changelist")
ADD_URL = reverse("admin:registry_identifiedexport_add")


@pytest.fixture
def log(db):
    alice = factories.make_user("alice", role=Role.COORDINATOR)
    bob = factories.make_user("bob", role=Role.INVESTIGATOR)
    return [
        IdentifiedExport.objects.create(
            user=alice, username="alice", door=ExportDoor.ADMIN_REDCAP_RECORDS, content="records", file_format="csv",
            site_codes="site-a", record_count=3, exported_at=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)),
        IdentifiedExport.objects.create(
            user=bob, username="bob", door=ExportDoor.API_DATASET, content="lines", file_format="parquet",
            site_codes="site-a, site-b", record_count=7, exported_at=datetime(2026, 4, 2, 14, 0, tzinfo=timezone.utc)),
        IdentifiedExport.objects.create(
            user=None, username="", door=ExportDoor.COMMAND_EXPORT_DATASET, content="patients", file_format="csv",
            record_count=9, exported_at=datetime(2026, 4, 20, 8, 0, tzinfo=timezone.utc)),
    ]


def listed(response) -> list[str]:
    assert response.status_code == 200
    return [entry.content for entry in response.context["cl"].result_list]


def test_an_administrator_lists_the_log_newest_first_and_filters_it_by_user_door_and_date(client, administrator, log):
    client.force_login(administrator)
    alice = log[0].user

    assert listed(client.get(LIST_URL)) == ["patients", "lines", "records"]
    assert listed(client.get(LIST_URL, {"user__id__exact": alice.pk})) == ["records"]
    assert listed(client.get(LIST_URL, {"door": ExportDoor.API_DATASET})) == ["lines"]
    assert listed(client.get(LIST_URL, {"exported_at__year": 2026, "exported_at__month": 4})) == ["patients", "lines"]
    assert listed(client.get(LIST_URL, {"q": "bob"})) == ["lines"]
    assert client.get(reverse("admin:registry_identifiedexport_change", args=[log[1].pk])).status_code == 200


def test_nobody_adds_changes_or_deletes_a_log_row_not_even_an_administrator(client, administrator, log):
    client.force_login(administrator)
    entry = log[0]
    before = list(IdentifiedExport.objects.order_by("id").values())

    added = client.post(ADD_URL, {"username": "mallory", "door": ExportDoor.REDCAP_API, "content": "records"})
    changed = client.post(reverse("admin:registry_identifiedexport_change", args=[entry.pk]),
                          {"username": "mallory", "door": entry.door, "content": "nothing"})
    deleted = client.post(reverse("admin:registry_identifiedexport_delete", args=[entry.pk]), {"post": "yes"})
    bulk_deleted = client.post(LIST_URL, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})

    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    # No delete action is offered: the list answers as for an unknown action, and deletes nothing.
    assert bulk_deleted.status_code == 200
    assert list(IdentifiedExport.objects.order_by("id").values()) == before


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.VIEWER, None])
def test_other_roles_do_not_see_the_log(client, log, role):
    client.force_login(factories.make_user("someone", role=role))
    before = IdentifiedExport.objects.count()

    answers = (client.get(LIST_URL).status_code,
               client.get(reverse("admin:registry_identifiedexport_change", args=[log[0].pk])).status_code,
               client.post(reverse("admin:registry_identifiedexport_delete", args=[log[0].pk]),
                           {"post": "yes"}).status_code)

    # The list is refused; a row's pages answer as for a row that does not exist (docs/security.md, §7).
    assert answers == (403, 404, 404)
    assert b"identifiedexport" not in client.get(reverse("admin:index")).content
    assert IdentifiedExport.objects.count() == before


def test_the_log_list_costs_the_same_queries_for_3_rows_as_for_13(client, administrator, log):
    client.force_login(administrator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST_URL).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for number in range(10):
        IdentifiedExport.objects.create(user=factories.make_user(f"user{number}"), username=f"user{number}",
                                        door=ExportDoor.REDCAP_API, content="records", record_count=number)

    assert queries() == few
