"""The workspace settings (the worklist's intervals): administrators change them in the admin, through
`workspace_settings_update`, with their history; nobody else does; the worklist follows them."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from registry.models import PatientDerivation, Role, WorkspaceSettings
from registry.models.choices import VitalStatus
from registry.selectors.worklist import VITAL_STATUS, worklist
from registry.services.workspace_settings import workspace_settings_update
from tests import factories
from tests.admin.admin_pages import change_url, changelist_url, delete_url, form_data_of

ADD_URL = "/admin/registry/workspacesettings/add/"


@pytest.fixture
def settings_row(db):
    return WorkspaceSettings.objects.create(pk=1)


def test_an_administrator_changes_an_interval_in_the_admin_and_it_is_kept_in_the_history(client, settings_row):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    client.force_login(administrator)
    data = form_data_of(client.get(change_url(settings_row)))
    data["scan_grace_days"] = "21"

    response = client.post(change_url(settings_row), data)

    assert response.status_code == 302
    stored = WorkspaceSettings.objects.get(pk=1)
    assert (stored.scan_grace_days, stored.scan_interval_alk_tki_days) == (21, 84)
    latest = stored.history.latest("history_date")
    assert (latest.scan_grace_days, latest.history_user, latest.history_change_reason) == (
        21, administrator, "workspace settings changed")
    assert stored.history.count() == 2


def test_an_administrator_adds_the_row_while_the_defaults_apply_and_never_a_second(client, db):
    client.force_login(factories.make_user(role=Role.ADMINISTRATOR))
    data = form_data_of(client.get(ADD_URL))
    data["vital_status_days"] = "120"

    added = client.post(ADD_URL, data)
    second = client.get(ADD_URL)

    assert added.status_code == 302
    assert list(WorkspaceSettings.objects.values_list("pk", "vital_status_days")) == [(1, 120)]
    assert second.status_code == 403


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.VIEWER])
def test_no_other_role_may_change_the_settings_and_nothing_is_written(client, site_a, settings_row, role):
    client.force_login(factories.make_user(role=role, sites=[site_a]))
    data = {field: "30" for field in ("scan_interval_alk_tki_days", "scan_interval_chemotherapy_days",
                                      "scan_interval_other_days", "scan_grace_days", "vital_status_days",
                                      "recent_days", "target_change_percent", "scan_after_line_end_days")}

    page = client.get(change_url(settings_row))
    changed = client.post(change_url(settings_row), data)

    assert page.status_code == 200  # read: every role sees the intervals the worklist uses
    assert changed.status_code == 403
    assert WorkspaceSettings.objects.get(pk=1).scan_grace_days == 14
    assert settings_row.history.count() == 1


def test_nobody_deletes_the_settings(client, settings_row):
    client.force_login(factories.make_user(superuser=True))

    deleted = client.post(delete_url(settings_row), {"post": "yes"})
    listed = client.get(changelist_url(WorkspaceSettings))

    assert (deleted.status_code, listed.status_code) == (403, 200)
    assert WorkspaceSettings.objects.filter(pk=1).exists()


def test_the_history_page_is_read_only(client, settings_row):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    workspace_settings_update(values={"recent_days": 3}, user=administrator)
    first_version = settings_row.history.order_by("history_id").first()
    client.force_login(administrator)
    revert_url = reverse("admin:registry_workspacesettings_simple_history", args=[1, first_version.history_id])

    response = client.post(revert_url, {"recent_days": "7"})

    assert response.status_code == 405
    assert WorkspaceSettings.objects.get(pk=1).recent_days == 3


def test_an_unknown_setting_or_an_invalid_value_is_refused_and_nothing_is_written(settings_row):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)

    with pytest.raises(ValidationError) as unknown:
        workspace_settings_update(values={"data_cutoff": "2024-01-01"}, user=administrator)
    with pytest.raises(ValidationError) as invalid:
        workspace_settings_update(values={"scan_grace_days": "two weeks"}, user=administrator)

    assert "data_cutoff" in unknown.value.message_dict and "scan_grace_days" in invalid.value.message_dict
    assert WorkspaceSettings.objects.get(pk=1).scan_grace_days == 14
    assert settings_row.history.count() == 1


def test_saving_the_same_values_writes_no_history(settings_row):
    workspace_settings_update(values={"scan_grace_days": 14}, user=None)

    assert settings_row.history.count() == 1


def test_a_change_moves_the_worklist_and_re_derives_nothing(site_a):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    patient = factories.make_patient(site_a, "V-150", vital=VitalStatus.ALIVE, last_alive_date=date(2024, 2, 2))
    PatientDerivation.objects.create(patient=patient, rules_version=1, settings_snapshot={},
                                     derived_at="2024-06-01T00:00:00Z")
    today = date(2024, 7, 1)  # 2024-07-01 − 2024-02-02 = 150 days: within 180, beyond 120

    before = worklist(coordinator, category=VITAL_STATUS, today=today)
    workspace_settings_update(values={"vital_status_days": 120}, user=None)
    after = worklist(coordinator, category=VITAL_STATUS, today=today)

    assert (before.total, after.total) == (0, 1)
    assert PatientDerivation.objects.get().is_stale is False
