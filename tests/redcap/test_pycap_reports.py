"""PyCap's export_report(report_id=...) against a running registry (tests/redcap/live_server.py), with
nothing changed in PyCap: a saved report's id is what it passes as report_id. Expected rows worked by hand
in tests/saved_report_cases.py."""
import pytest
from redcap import Project, RedcapError
from redcap import request as redcap_request

from registry.services.saved_reports import saved_report_create
from tests.redcap.conftest import make_token
from tests.saved_report_cases import ADMINISTRATOR_ROWS, COLUMNS, SITE_A_ROWS, WOMEN_ON_ALECTINIB, make_registry

# Once, on PostgreSQL: against a gunicorn server, as deployed (the SQLite run would use Django's live-server
# thread).
pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.one_database("postgresql")]


@pytest.fixture(autouse=True)
def _no_kept_alive_connections():
    """PyCap's module-wide requests Session keeps connections open: close them after each test."""
    yield
    redcap_request._session.close()


@pytest.fixture
def report(administrator, site_a, site_b):
    make_registry(site_a, site_b)
    return saved_report_create(user=administrator, shared=True, **WOMEN_ON_ALECTINIB)


def test_pycap_exports_a_saved_report_as_json_csv_and_a_dataframe(redcap_url, administrator, report):
    project = Project(redcap_url, make_token(administrator))

    as_json = project.export_report(report_id=str(report.pk))
    as_csv = project.export_report(report_id=str(report.pk), format_type="csv")
    as_frame = project.export_report(report_id=str(report.pk), format_type="df")

    assert as_json == [dict(zip(COLUMNS, row, strict=True)) for row in ADMINISTRATOR_ROWS]
    assert as_csv == ",".join(COLUMNS) + "\n" + "".join(",".join(row) + "\n" for row in ADMINISTRATOR_ROWS)
    assert list(as_frame.index) == [row[0] for row in ADMINISTRATOR_ROWS]  # record_id is the frame's index
    assert list(as_frame["line_drug"].fillna(0).astype(int)) == [7, 2, 2, 0, 0]


def test_pycap_gets_a_coordinators_rows_and_an_error_for_a_private_report(redcap_url, coordinator_a, administrator,
                                                                          report):
    private = saved_report_create(user=administrator, name="Administrator's own", fields=["sex"])
    project = Project(redcap_url, make_token(coordinator_a))

    rows = project.export_report(report_id=str(report.pk))
    with pytest.raises(RedcapError, match="report_id"):
        project.export_report(report_id=str(private.pk))

    assert [list(row.values()) for row in rows] == SITE_A_ROWS
