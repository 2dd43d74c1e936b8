"""The study report from a frozen data cut is the same report (but for `generated_at`) however the
live records and results change afterwards, through the function, the command and the REST API."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.reports.study_report import study_report
from registry.services.data_cuts import data_cut_freeze
from tests import factories
from tests.api.conftest import token_client
from tests.data_cut_world import build_cut_world, change_everything
from registry.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _without_generated_at(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "generated_at"}


def test_the_report_from_a_cut_equals_the_first_one_after_records_and_settings_change(world, site_a):
    cut = data_cut_freeze(name="2024-analysis")
    first = study_report(cut=cut)
    live_before = study_report()

    change_everything(site_a)

    again = study_report(cut=cut)
    assert _without_generated_at(again) == _without_generated_at(first)
    # The cut's report is the live one as it was, naming the cut ...
    assert _without_generated_at(live_before) == {
        key: value for key, value in _without_generated_at(first).items() if key != "data_cut"}
    assert first["data_cut"]["content_hash"] == cut.content_hash
    # ... while the live report moved on (the later cut-off 2024-12-31).
    assert study_report()["derived_with"]["data_cutoff"] == "2024-12-31"
    assert first["derived_with"]["data_cutoff"] == "2024-06-30"


def test_study_report_command_writes_the_cut_s_report_as_json(world, site_a, tmp_path):
    data_cut_freeze(name="2024-analysis")
    call_command("study_report", "--format", "json", "--output", tmp_path / "first.json", "--cut", "2024-analysis",
                 stdout=io.StringIO())

    change_everything(site_a)
    call_command("study_report", "--format", "json", "--output", tmp_path / "again.json", "--cut", "2024-analysis",
                 stdout=io.StringIO())

    first = json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert _without_generated_at(again) == _without_generated_at(first)
    assert first["data_cut"]["name"] == "2024-analysis"


def test_study_report_command_refuses_an_unknown_cut(world, tmp_path):
    with pytest.raises(CommandError, match="No data cut is named 'nope'"):
        call_command("study_report", "--format", "json", "--output", tmp_path / "r.json", "--cut", "nope")
    assert not (tmp_path / "r.json").exists()


def test_the_rest_report_from_a_cut_is_the_same_after_changes_and_covers_the_coordinator_s_site(world, site_a):
    data_cut_freeze(name="2024-analysis")
    coordinator = token_client(factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a]))
    administrator = token_client(factories.make_user("admin", superuser=True))
    first = administrator.get("/api/v1/report/", {"cut": "2024-analysis"}).json()
    coordinator_first = coordinator.get("/api/v1/report/", {"cut": "2024-analysis"}).json()

    change_everything(site_a)

    assert _without_generated_at(administrator.get("/api/v1/report/", {"cut": "2024-analysis"}).json()) == \
        _without_generated_at(first)
    # 12 of the cut's 20 records are site A's: all the coordinator sees of it.
    visible = (first["derived_with"]["patients_visible"], coordinator_first["derived_with"]["patients_visible"])
    assert visible == (20, 12)

