"""content=report: a saved report's rows in REDCap's flat format (csv, json, xml; raw or labels), for the
token's sites, de-identified for users without the identified grant; an unknown or private report id is a
REDCap-style error. Expected rows: tests/saved_report_cases.py, worked by hand."""
import csv
import io

import pytest
from django.urls import reverse

from registry.models import ExportDoor, IdentifiedExport, Patient, Role
from registry.services.saved_reports import saved_report_create
from tests import factories
from tests.redcap.conftest import make_token
from tests.saved_report_cases import ADMINISTRATOR_ROWS, COLUMNS, SITE_A_ROWS, WOMEN_ON_ALECTINIB, make_registry

KEY = "a-test-key-of-more-than-32-characters-x"


@pytest.fixture
def report(administrator, site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    make_registry(site_a, site_b)
    return saved_report_create(user=administrator, shared=True, **WOMEN_ON_ALECTINIB)


def test_a_report_exports_as_json_in_its_filter_and_sort(redcap, admin_token, report):
    answer = redcap(admin_token, "report", report_id=str(report.pk), format="json")

    assert answer.status == 200
    assert answer.json() == [dict(zip(COLUMNS, row, strict=True)) for row in ADMINISTRATOR_ROWS]


def test_a_report_exports_as_csv_with_label_headers_and_as_xml(redcap, admin_token, report):
    as_csv = redcap(admin_token, "report", report_id=str(report.pk), format="csv", rawOrLabel="label",
                    rawOrLabelHeaders="label").text
    as_xml = redcap(admin_token, "report", report_id=str(report.pk), format="xml").text

    table = list(csv.reader(io.StringIO(as_csv)))
    # The dictionary's labels of sex, line_drug and line_start; REDCap's of its own columns.
    assert table[0] == ["Record ID", "Repeat Instrument", "Repeat Instance", "Sex", "Regimen", "Start date"]
    assert table[1] == ["A-1", "Treatment line", "2", "", "Lorlatinib", "2021-05-01"]
    assert len(table) == 1 + len(ADMINISTRATOR_ROWS)
    assert as_xml.count("<item>") == len(ADMINISTRATOR_ROWS)
    assert "<record_id>B-1</record_id><redcap_repeat_instrument>treatment_line</redcap_repeat_instrument>" in as_xml


def test_a_checkbox_exports_its_choice_label_with_export_checkbox_label(redcap, admin_token, report, administrator):
    methods = saved_report_create(user=administrator, name="Methods", fields=["alk_method"],
                                  filter_logic='[record_id] = "A-1"')
    Patient.objects.filter(record_id="A-1").update(alk_method_2=True)  # FISH (code 2) ticked, the others not

    labelled = redcap(admin_token, "report", report_id=str(methods.pk), format="json", rawOrLabel="label",
                      exportCheckboxLabel="true").json()
    plain = redcap(admin_token, "report", report_id=str(methods.pk), format="json", rawOrLabel="label").json()

    assert (labelled[0]["alk_method___2"], labelled[0]["alk_method___1"]) == ("FISH", "")
    assert (plain[0]["alk_method___2"], plain[0]["alk_method___1"]) == ("Checked", "Unchecked")


def test_a_coordinators_token_gets_their_sites_rows_only(redcap, coordinator_a, report):
    answer = redcap(make_token(coordinator_a), "report", report_id=str(report.pk), format="json")

    assert [list(row.values()) for row in answer.json()] == SITE_A_ROWS


def test_an_unknown_or_private_report_id_is_a_redcap_error(redcap, admin_token, coordinator_a, report):
    private = saved_report_create(user=coordinator_a, name="Mine", fields=["sex"])

    for report_id in (str(private.pk), "999", "abc"):
        answer = redcap(admin_token, "report", report_id=report_id, format="json")
        assert answer.status == 400
        assert answer.json() == {"error": f"The value of the parameter \"report_id\" is not valid: '{report_id}' "
                                          "(no such report among those you can see)"}
    missing = redcap(admin_token, "report", format="csv")
    assert (missing.status, missing.text) == (400, 'ERROR: The parameter "report_id" is missing')


def test_an_investigator_without_the_grant_gets_pseudonyms_and_nothing_is_logged(redcap, report):
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)

    rows = redcap(make_token(investigator), "report", report_id=str(report.pk), format="json").json()

    assert {row["record_id"] for row in rows}.isdisjoint({"A-1", "B-1"})
    assert len(rows) == len(ADMINISTRATOR_ROWS)
    assert IdentifiedExport.objects.count() == 0


def test_an_identified_report_export_is_logged(redcap, coordinator_a, report):
    redcap(make_token(coordinator_a), "report", report_id=str(report.pk), format="csv")

    entry = IdentifiedExport.objects.get()
    assert (entry.username, entry.door, entry.content, entry.file_format, entry.site_codes, entry.record_count) == (
        "coordinator_a", ExportDoor.REDCAP_API, f"saved report {report.pk}", "csv", "site-a", 1)


def test_a_report_filtering_on_a_date_is_refused_to_a_deidentified_reader(redcap, administrator, report):
    dated = saved_report_create(user=administrator, shared=True, name="Recent", fields=["line_start"],
                                filter_logic='[line_start] > "2020-05-01"')
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)

    answer = redcap(make_token(investigator), "report", report_id=str(dated.pk), format="json")

    assert answer.status == 400
    assert "filters on identifier or date fields (line_start)" in answer.json()["error"]


def test_without_a_key_a_deidentified_report_is_refused_with_503_and_the_page_says_why(
        redcap, client, report, settings):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)

    answer = redcap(make_token(investigator), "report", report_id=str(report.pk), format="json")
    client.force_login(investigator)
    page = client.get(reverse("workspace:report", kwargs={"report_id": report.pk}))

    assert answer.status == 503
    assert "REGISTRY_DEIDENTIFICATION_KEY" in answer.json()["error"]
    assert page.status_code == 409 and "REGISTRY_DEIDENTIFICATION_KEY" in page.content.decode()


def test_a_report_export_costs_the_same_queries_for_four_records_and_for_twenty_four(
        redcap, admin_token, report, site_b, django_assert_num_queries):
    from datetime import date
    redcap(admin_token, "version")  # the token's first use writes last_used_at; then not for a minute
    # 1 the token with its user (its last use was just written: no UPDATE), 2 the report,
    # 3 the ids of the patients the user sees (a superuser: access_for needs no query), 4 their treatment
    # lines, 5 their record rows (one batch), 6 the site of every record (the identified export's log),
    # 7 the log's INSERT.
    with django_assert_num_queries(7):
        four = redcap(admin_token, "report", report_id=str(report.pk), format="json").json()
    for number in range(20):
        patient = factories.make_patient(site_b, f"C-{number:02d}", sex=2)
        factories.make_line(patient, 1, line_drug=2, line_start=date(2022, 1, 1))
    with django_assert_num_queries(7):
        twenty_four = redcap(admin_token, "report", report_id=str(report.pk), format="json").json()

    assert (len(four), len(twenty_four)) == (len(ADMINISTRATOR_ROWS), len(ADMINISTRATOR_ROWS) + 40)
