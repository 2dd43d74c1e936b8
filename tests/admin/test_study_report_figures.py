"""The study report page's figures as files: ?figure=KEY&format=png|svg, for anyone with a registry
role, over the sites they may see (the world of tests/study_figure_world.py: A-1 at site A, B-1 at B)."""
import pytest
from django.urls import reverse

from tests import factories
from tests.reports.test_plots import PNG_SIGNATURE
from tests.study_figure_world import build_figure_world

# Once, on SQLite: the report's statistics are computed in Python from the derived rows; its queries also run
# on PostgreSQL in tests/reports/test_data_cut_report.py.
pytestmark = pytest.mark.one_database("sqlite")

REPORT_URL = reverse("admin:registry_patient_study_report")


@pytest.fixture
def world(site_a, site_b):
    build_figure_world(site_a, site_b)


@pytest.mark.parametrize("figure", ["swimmer", "waterfall", "fig6c"])
def test_an_investigator_downloads_each_figure_as_png_and_svg(client, investigator, world, figure):
    client.force_login(investigator)

    png = client.get(REPORT_URL, {"figure": figure, "format": "png"})
    svg = client.get(REPORT_URL, {"figure": figure, "format": "svg"})

    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    assert png["Content-Disposition"].startswith(f'attachment; filename="study-report-{figure}-')
    assert png["Content-Disposition"].endswith('.png"')
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    assert svg["Content-Disposition"].endswith('.svg"')


def test_a_coordinator_s_swimmer_holds_only_their_site_s_patients(coordinator_client, world):
    svg = coordinator_client.get(REPORT_URL, {"figure": "swimmer", "format": "svg"}).content.decode("utf-8")

    assert ">A-1<" in svg and "B-1" not in svg


def test_the_page_shows_both_plots_with_their_download_links(client, investigator, world):
    client.force_login(investigator)

    page = client.get(REPORT_URL).content.decode()

    assert "<h3>Swimmer plot</h3>" in page and "<h3>Waterfall plot</h3>" in page
    for figure in ("swimmer", "waterfall", "fig5a", "fig6d"):
        assert f'href="?figure={figure}&amp;format=png"' in page and f'href="?figure={figure}&amp;format=svg"' in page
    assert "2 patients, longest follow-up first" in page
    assert "2 lines with a measured target sum; 2 lines without one" in page


def test_the_html_download_has_the_plots_but_no_links_that_would_not_work_offline(client, investigator, world):
    client.force_login(investigator)

    page = client.get(REPORT_URL, {"format": "html"}).content.decode()

    assert "<h3>Swimmer plot</h3>" in page and 'alt="Swimmer plot' in page
    assert "?figure=" not in page


def test_an_unknown_figure_or_format_is_a_bad_request_that_says_what_is_wrong(client, investigator, world):
    client.force_login(investigator)

    response = client.get(REPORT_URL, {"figure": "fig9z", "format": "png"})
    assert response.status_code == 400 and b"no figure 'fig9z'; its figures are fig5a," in response.content
    response = client.get(REPORT_URL, {"figure": "swimmer", "format": "pdf"})
    assert response.status_code == 400 and b"png or svg" in response.content
    assert client.get(REPORT_URL, {"figure": "swimmer"}).status_code == 400


def test_a_user_without_a_registry_role_gets_no_figure(client, world):
    client.force_login(factories.make_user("nobody"))

    assert client.get(REPORT_URL, {"figure": "swimmer", "format": "png"}).status_code == 403
