"""The REST API's study report carries the swimmer and waterfall plots' rows (not their images, as
for the Kaplan-Meier curves), over the sites the token's user may see."""
import pytest

from tests.study_figure_world import build_figure_world


@pytest.fixture
def world(site_a, site_b):
    build_figure_world(site_a, site_b)


def test_a_coordinator_s_report_has_only_their_site_s_rows_in_both_plots(coordinator_api, world):
    report = coordinator_api.get("/api/v1/report/").json()

    assert [row["record_id"] for row in report["swimmer"]["rows"]] == ["A-1"]
    assert [bar["record_id"] for bar in report["waterfall"]["bars"]] == ["A-1"]
    assert "figure_png" not in report["swimmer"] and "figure_png" not in report["waterfall"]


def test_an_investigator_s_report_has_every_site_s_rows(investigator_api, world):
    report = investigator_api.get("/api/v1/report/").json()

    # B-1 first: the longer follow-up (669 days against 517, tests/study_figure_world.py)
    assert [row["record_id"] for row in report["swimmer"]["rows"]] == ["B-1", "A-1"]
    assert [(bar["record_id"], bar["best_pct_change"]) for bar in report["waterfall"]["bars"]] == [
        ("B-1", 25.0), ("A-1", -40.0)]
