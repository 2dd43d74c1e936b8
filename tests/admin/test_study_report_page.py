"""The study report page of the admin: for investigators, over the patients they may see."""
import json

import pytest
from django.urls import reverse

from registry.models import Role, Site
from tests import factories

# Once, on SQLite: the report's statistics are computed in Python from the derived rows; its queries also run
# on PostgreSQL in tests/reports/test_data_cut_report.py.
pytestmark = pytest.mark.one_database("sqlite")

REPORT_URL = reverse("admin:registry_patient_study_report")


@pytest.fixture
def demo(demo_cohort_loaded):
    """The demo cohort as `load_demo` leaves it, loaded once per process (tests/demo_world.py)."""


def test_an_investigator_reads_the_report_with_its_curves_and_published_values(client, investigator, demo):
    client.force_login(investigator)

    response = client.get(REPORT_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Table 2. Patterns of ALK-TKI resistance" in page
    # Table 2's first row as the registry derives it and as published (15.0 % of 20, 56.6 % of 53, p = 0.002)
    assert "15.0 % (3/20)" in page and "56.6 % (30/53)" in page and "0.002" in page
    assert page.count('src="data:image/png;base64,') == 12  # Figs. 5A-F and 6A-D, the swimmer and the waterfall
    assert response.context["report"]["derived_with"]["patients_in_cohorts"] == 73


def test_the_json_download_is_the_reports_data(client, investigator, demo):
    client.force_login(investigator)

    response = client.get(REPORT_URL, {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="study-report-')
    report = json.loads(response.content)
    assert report["cohorts"] == {"cohort_1": 20, "cohort_2": 53, "published": {"cohort_1": 20, "cohort_2": 53}}
    assert "figure_png" not in report["survival"][0]


def test_the_html_download_is_a_self_contained_page(client, investigator, demo):
    client.force_login(investigator)

    response = client.get(REPORT_URL, {"format": "html"})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "admin/" not in page.split("<body>")[1][:200]


def test_a_coordinator_sees_the_report_of_their_sites_only(client, demo):
    coordinator = factories.make_user("coordinator_b", role=Role.COORDINATOR, sites=[Site.objects.get(code="demo-b")])
    client.force_login(coordinator)

    report = client.get(REPORT_URL).context["report"]

    assert report["derived_with"]["patients_visible"] == 36  # WU-002, WU-004, ... WU-072
    assert report["cohorts"]["cohort_1"] + report["cohorts"]["cohort_2"] == 36


def test_a_user_without_a_registry_role_gets_no_report(client, db):
    user = factories.make_user("nobody")
    client.force_login(user)

    assert client.get(REPORT_URL).status_code == 403


def test_the_patient_list_links_to_the_report(client, investigator, db):
    client.force_login(investigator)

    response = client.get(reverse("admin:registry_patient_changelist"))

    assert REPORT_URL in response.content.decode()
