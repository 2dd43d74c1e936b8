"""Saved reports in the workspace: the list, the form, the page of rows and the downloads, for every role.

Expected rows: tests/saved_report_cases.py (worked by hand); pseudonyms from the rule's definition with
hmac directly (first 16 hex digits of HMAC-SHA256(key, "record_id:" + id))."""
import csv
import hashlib
import hmac
import io
from types import SimpleNamespace

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registry.models import ExportDoor, IdentifiedExport, Role, SavedReport
from registry.services.saved_reports import saved_report_create
from tests import factories
from tests.access_roles import IDENTIFIED, ROLES, SEES, user_for
from tests.saved_report_cases import ADMINISTRATOR_ROWS, COLUMNS, WOMEN_ON_ALECTINIB, make_registry

KEY = "a-test-key-of-more-than-32-characters-x"
REPORTS = reverse("workspace:reports")
NEW = reverse("workspace:report_new")


def pseudonym(record_id: str) -> str:
    return hmac.new(KEY.encode(), f"record_id:{record_id}".encode(), hashlib.sha256).hexdigest()[:16]


@pytest.fixture
def world(site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    make_registry(site_a, site_b)
    return SimpleNamespace(sites={"A": site_a, "B": site_b})


@pytest.fixture
def shared(administrator, world):
    return saved_report_create(user=administrator, shared=True, **WOMEN_ON_ALECTINIB)


def _page(report) -> str:
    return reverse("workspace:report", kwargs={"report_id": report.pk})


def _download(report, file_format: str) -> str:
    return reverse("workspace:report_download", kwargs={"report_id": report.pk, "file_format": file_format})


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_a_shared_reports_rows_of_its_own_sites_identified_or_not(client, world, shared, role):
    client.force_login(user_for(role, world, "reader"))

    response = client.get(_page(shared))

    # The filter keeps A-1 (site A) and B-1 (site B); each role sees those of its sites.
    kept = {"A": "A-1", "B": "B-1"}
    expected = {kept[site] for site in SEES[role]}
    if role not in IDENTIFIED:
        expected = {pseudonym(record) for record in expected}
    if role == "no role":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert {row[0] for row in response.context["rows"]} == expected
    assert response.context["table"].deidentified is (role not in IDENTIFIED)


def test_a_private_report_is_not_found_by_anyone_else(client, world, coordinator_a, administrator):
    private = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)
    client.force_login(administrator)

    page, download, edit = (client.get(_page(private)), client.get(_download(private, "csv")),
                            client.get(reverse("workspace:report_edit", kwargs={"report_id": private.pk})))
    listing = client.get(REPORTS).content.decode()

    assert (page.status_code, download.status_code, edit.status_code) == (404, 404, 404)
    assert WOMEN_ON_ALECTINIB["name"] not in listing
    assert IdentifiedExport.objects.count() == 0


def test_the_list_shows_my_reports_and_the_shared_ones(client, world, coordinator_a, shared):
    mine = saved_report_create(user=coordinator_a, name="My own", fields=["sex"])
    client.force_login(coordinator_a)

    response = client.get(REPORTS)

    assert [row["report"] for row in response.context["rows"]] == [mine, shared]
    assert [row["may_change"] for row in response.context["rows"]] == [True, False]


def test_a_coordinator_saves_a_report_from_the_form_and_sees_it_sorted(client, world, coordinator_a):
    client.force_login(coordinator_a)

    response = client.post(NEW, {**WOMEN_ON_ALECTINIB, "fields": WOMEN_ON_ALECTINIB["fields"]})

    report = SavedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == _page(report)
    page = client.get(_page(report))
    # Site A only, sorted newest line first (tests/saved_report_cases.py SITE_A_ROWS).
    assert [row[:3] for row in page.context["rows"]] == [
        ["A-1", "treatment_line", "2"], ["A-1", "treatment_line", "1"], ["A-1", "", ""]]


def test_a_bad_filter_is_shown_beside_the_field_and_nothing_is_saved(client, world, coordinator_a):
    client.force_login(coordinator_a)

    response = client.post(NEW, {"name": "Broken", "fields": ["sex"], "filter_logic": "[sex] = ",
                                 "sort_direction": "asc"})

    assert response.status_code == 400
    errors = response.context["form"].errors["filter_logic"]
    assert errors == ["The filter '[sex] =' cannot be used: filterLogic ends too early."]
    assert "filterLogic ends too early" in response.content.decode()
    assert SavedReport.objects.count() == 0


def test_only_the_owner_or_an_administrator_may_change_or_delete_a_shared_report(client, world, coordinator_a,
                                                                                 administrator, shared):
    client.force_login(coordinator_a)
    edit = reverse("workspace:report_edit", kwargs={"report_id": shared.pk})
    delete = reverse("workspace:report_delete", kwargs={"report_id": shared.pk})

    refused = client.post(edit, {**WOMEN_ON_ALECTINIB, "name": "Mine now"})
    refused_delete = client.post(delete)

    assert (refused.status_code, refused_delete.status_code) == (403, 403)
    assert SavedReport.objects.get().name == WOMEN_ON_ALECTINIB["name"]
    client.force_login(administrator)
    assert client.post(delete).status_code == 302
    assert SavedReport.objects.count() == 0


def test_the_csv_download_holds_every_row_and_is_logged_when_identified(client, world, administrator, shared):
    client.force_login(administrator)

    response = client.get(_download(shared, "csv"))

    assert response["Content-Disposition"] == f'attachment; filename="report-{shared.pk}-women-on-alectinib.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [COLUMNS, *ADMINISTRATOR_ROWS]
    entry = IdentifiedExport.objects.get()
    assert (entry.door, entry.content, entry.site_codes, entry.record_count) == (
        ExportDoor.WORKSPACE_REPORT, f"saved report {shared.pk}", "site-a, site-b", 2)


def test_the_excel_download_of_a_viewer_is_deidentified_and_not_logged(client, world, shared):
    viewer = factories.make_user("viewer", role=Role.VIEWER, sites=[world.sites["A"]])
    client.force_login(viewer)

    response = client.get(_download(shared, "xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0] == COLUMNS
    # Site A's rows only (A-1's three), under A-1's pseudonym.
    assert [row[0] for row in values[1:]] == [pseudonym("A-1")] * 3
    assert IdentifiedExport.objects.count() == 0


def test_rows_come_a_page_at_a_time_and_an_htmx_page_link_gets_the_rows_alone(client, world, administrator,
                                                                              monkeypatch):
    monkeypatch.setattr("registry.workspace.views.saved_reports.PAGE_ROWS", 2)
    report = saved_report_create(user=administrator, name="All", fields=["sex"])  # 4 records, 4 record rows
    client.force_login(administrator)

    second = client.get(_page(report), {"page": 2}, HTTP_HX_REQUEST="true")

    assert [row[0] for row in second.context["rows"]] == ["A-3", "B-1"]
    assert [template.name for template in second.templates][0] == "workspace/fragments/report_rows.html"
    assert "<html" not in second.content.decode()


def test_the_report_page_costs_the_same_queries_for_one_record_and_for_twenty(
        client, site_a, site_b, administrator, django_assert_num_queries):
    report = saved_report_create(user=administrator, name="Lines", fields=["sex", "line_drug"],
                                 filter_logic='[line_drug] = "2"', sort_field="sex")
    client.force_login(administrator)
    patient = factories.make_patient(site_a, "Q-0")
    factories.make_line(patient, 1)

    # 1 the session, 2 the user (a superuser: access_for needs no query), 3 the report (owner joined),
    # 4 the ids of the patients the user sees, 5 their record rows (one batch of up to 200),
    # 6 their treatment lines (the one repeating instrument the report reads).
    with django_assert_num_queries(6):
        one = client.get(_page(report))
    for number in range(19):
        factories.make_line(factories.make_patient(site_b, f"Q-{number + 1:02d}"), 1)
    with django_assert_num_queries(6):
        twenty = client.get(_page(report))

    assert (len(one.context["table"].record_ids), len(twenty.context["table"].record_ids)) == (1, 20)


def test_the_list_of_reports_costs_the_same_queries_for_one_report_and_for_ten(
        client, coordinator_a, administrator, django_assert_num_queries):
    client.force_login(coordinator_a)
    saved_report_create(user=coordinator_a, name="Mine", fields=["sex"])

    # 1 the session, 2 the user, 3 the registry role and 4 the sites (access_for), 5 the reports with
    # their owners (one query, joined).
    with django_assert_num_queries(5):
        client.get(REPORTS)
    for number in range(9):
        saved_report_create(user=administrator, shared=True, name=f"Shared {number}", fields=["sex"])
    with django_assert_num_queries(5):
        response = client.get(REPORTS)

    assert len(response.context["rows"]) == 10


def test_the_form_offers_fields_grouped_by_instrument_and_edits_a_report_as_saved(client, world, coordinator_a):
    report = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)
    client.force_login(coordinator_a)

    new_page = client.get(NEW)
    edit_page = client.get(reverse("workspace:report_edit", kwargs={"report_id": report.pk}))

    groups = [group for group, _ in new_page.context["form"].fields["fields"].choices]
    assert groups[:2] == ["Enrollment", "Treatment line"]
    assert edit_page.context["form"].initial["fields"] == ["sex", "line_drug", "line_start"]
    html = edit_page.content.decode()
    assert 'value="line_start" id="id_fields_1_5" checked>' in html  # ticked, in the second group
    assert '<option value="line_start" selected>' in html  # the sort field
    assert 'value="ta_date" id="id_fields_3_0">' in html  # a field the report does not hold: not ticked


def test_a_report_naming_a_field_the_dictionary_no_longer_has_says_so(client, world, coordinator_a):
    report = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)
    SavedReport.objects.filter(pk=report.pk).update(fields=["sex", "retired_field"])
    client.force_login(coordinator_a)

    response = client.get(_page(report))

    assert response.status_code == 409
    assert "no longer has" in response.content.decode() and "retired_field" in response.content.decode()


def test_the_filter_is_checked_as_it_is_typed_and_nothing_is_saved(client, coordinator_a):
    client.force_login(coordinator_a)
    check = reverse("workspace:report_filter_check")

    bad = client.get(check, {"filter_logic": '[sex] = "2" or'}, HTTP_HX_REQUEST="true").content.decode()
    good = client.get(check, {"filter_logic": '[sex] = "2"'}, HTTP_HX_REQUEST="true").content.decode()

    assert "The filter &#x27;[sex] = &quot;2&quot; or&#x27; cannot be used: filterLogic ends too early." in bad
    assert "The filter reads correctly." in good
    assert SavedReport.objects.count() == 0
