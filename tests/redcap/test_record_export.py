"""content=record export: flat and eav, fields and forms, labels, sites, time window, filterLogic."""
import csv
import io
import json
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from registry.models import Patient
from registry.records import flat_export
from registry.services.records import records_export, records_import
from tests import factories
from tests.records.flat_files import EVERY_INSTRUMENT_CSV
from tests.redcap.conftest import make_token


@pytest.fixture
def registry(site_a, site_b):
    """Four records of site A with every instrument (EX-001..EX-003, ex-004) and one of site B."""
    assert records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None).ok
    factories.make_full_patient(site_b, "B-001")


def _service(file_format: str, **options) -> str:
    output = io.StringIO()
    records_export(output=output, file_format=file_format, **options)
    return output.getvalue()


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_flat_export_is_the_registrys_flat_format_streamed(redcap, admin_token, registry):
    answer = redcap(admin_token, "record", format="csv", type="flat")

    assert isinstance(answer.response, StreamingHttpResponse)
    assert answer.content_type == "text/csv; charset=utf-8"
    assert answer.text == _service("csv")
    assert json.loads(redcap(admin_token, "record", format="json").text) == json.loads(_service("json"))


def test_a_coordinator_exports_their_sites_records_only(redcap, coordinator_token, registry, coordinator_a):
    rows = redcap(coordinator_token, "record", format="json", **{"records[0]": "B-001", "records[1]": "EX-002"}).json()

    assert {row["record_id"] for row in rows} == {"EX-002"}
    assert redcap(coordinator_token, "record", format="csv").text == _service("csv", user=coordinator_a)


def test_fields_and_forms_choose_the_columns_and_the_instrument_rows(redcap, admin_token, registry):
    rows = redcap(admin_token, "record", format="json", **{
        "records[0]": "EX-001", "fields[0]": "record_id", "fields[1]": "line_drug", "forms[0]": "vital_status",
    }).json()

    assert list(rows[0]) == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "line_drug",
                             "last_alive_date", "vital", "death_date", "death_cause", "vital_status_complete"]
    assert [row["redcap_repeat_instrument"] for row in rows] == ["", "treatment_line", "treatment_line"]
    assert rows[1]["line_drug"] != "" and rows[0]["line_drug"] == ""


def test_unknown_fields_or_forms_are_a_400_naming_them(redcap, admin_token, registry):
    answer = redcap(admin_token, "record", format="json", **{"fields[0]": "sex", "fields[1]": "colour",
                                                             "fields[2]": "size"})

    assert (answer.status, answer.json()) == (
        400, {"error": "The following values in the parameter \"fields\" are not valid: 'colour', 'size'"})
    assert redcap(admin_token, "record", format="json", forms="enrolment").status == 400


def test_label_export_writes_choices_statuses_and_instruments_by_their_labels(redcap, admin_token, site_a):
    patient = factories.make_patient(site_a, "P-1", sex=2, alk_method_2=True, enrollment_complete=2)
    factories.make_line(patient, line_drug=2)
    fields = {"fields[0]": "sex", "fields[1]": "alk_method", "fields[2]": "enrollment_complete",
              "fields[3]": "line_drug"}

    labelled = redcap(admin_token, "record", format="json", rawOrLabel="label", **fields).json()
    checkbox_labels = redcap(admin_token, "record", format="json", rawOrLabel="label", exportCheckboxLabel="true",
                             **fields).json()

    assert labelled[0]["sex"] == "Female" and labelled[0]["enrollment_complete"] == "Complete"
    assert (labelled[0]["alk_method___1"], labelled[0]["alk_method___2"]) == ("Unchecked", "Checked")
    assert (checkbox_labels[0]["alk_method___1"], checkbox_labels[0]["alk_method___2"]) == ("", "FISH")
    assert (labelled[1]["redcap_repeat_instrument"], labelled[1]["line_drug"]) == ("Treatment line", "Alectinib")


def test_label_headers_name_each_csv_column_by_its_label(redcap, admin_token, site_a):
    factories.make_patient(site_a, "P-1")

    text = redcap(admin_token, "record", format="csv", rawOrLabelHeaders="label",
                  **{"fields[0]": "sex", "fields[1]": "alk_method", "fields[2]": "enrollment_complete"}).text

    assert next(csv.reader(io.StringIO(text))) == [
        "Record ID", "Repeat Instrument", "Repeat Instance", "Sex",
        "Method(s) that detected the ALK rearrangement (choice=IHC (Ventana D5F3))",
        "Method(s) that detected the ALK rearrangement (choice=FISH)",
        "Method(s) that detected the ALK rearrangement (choice=Tissue NGS)",
        "Method(s) that detected the ALK rearrangement (choice=Plasma NGS)",
        "Method(s) that detected the ALK rearrangement (choice=RT-PCR)",
        "Complete?",
    ]


def test_data_access_groups_come_after_the_key_columns(redcap, admin_token, registry):
    rows = _csv(redcap(admin_token, "record", format="csv", exportDataAccessGroups="true",
                       **{"fields[0]": "record_id"}).text)

    assert list(rows[0])[:4] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
                                 "redcap_data_access_group"]
    assert {row["record_id"]: row["redcap_data_access_group"] for row in rows} == {
        "EX-001": "site-a", "EX-002": "site-a", "EX-003": "site-a", "ex-004": "site-a", "B-001": "site-b"}


def test_the_eav_export_has_one_row_per_value_and_one_per_ticked_choice(redcap, admin_token, site_a):
    patient = factories.make_patient(site_a, "P-1", sex=2, alk_method_2=True, alk_method_4=True)
    factories.make_line(patient, line_drug=2)

    rows = redcap(admin_token, "record", format="json", type="eav",
                  **{"fields[0]": "sex", "fields[1]": "alk_method", "fields[2]": "line_drug"}).json()
    labelled = redcap(admin_token, "record", format="json", type="eav", rawOrLabel="label",
                      **{"fields[0]": "alk_method"}).json()

    assert rows == [
        {"record": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "", "field_name": "record_id",
         "value": "P-1"},
        {"record": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "", "field_name": "sex",
         "value": "2"},
        {"record": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "", "field_name": "alk_method",
         "value": "2"},
        {"record": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "", "field_name": "alk_method",
         "value": "4"},
        {"record": "P-1", "redcap_repeat_instrument": "treatment_line", "redcap_repeat_instance": "1",
         "field_name": "line_drug", "value": "2"},
    ]
    assert [row["value"] for row in labelled if row["field_name"] == "alk_method"] == ["FISH", "Plasma NGS"]


def test_filter_logic_keeps_whole_records_whose_logic_holds_on_one_row(redcap, admin_token, site_a):
    # Given two women, one with a line of alectinib (2), and a man with one
    woman = factories.make_patient(site_a, "W-1", sex=2)
    factories.make_line(woman, 1, line_drug=1)
    factories.make_line(woman, 2, line_drug=2)
    factories.make_line(factories.make_patient(site_a, "W-2", sex=2), 1, line_drug=1)
    factories.make_line(factories.make_patient(site_a, "M-1", sex=1), 1, line_drug=2)

    rows = redcap(admin_token, "record", format="json", filterLogic='[sex] = "2" and [line_drug] = "2"').json()

    # Then only W-1 matches (its second line, with the record's sex), and all its rows come with it
    assert [(row["record_id"], row["redcap_repeat_instrument"], row["redcap_repeat_instance"]) for row in rows] == [
        ("W-1", "", ""), ("W-1", "treatment_line", "1"), ("W-1", "treatment_line", "2")]
    assert [row["record_id"] for row in redcap(admin_token, "record", format="json", filterLogic='[sex] = "2"',
                                               **{"fields[0]": "record_id"}).json()] == ["W-1", "W-2"]


def test_filter_logic_may_look_at_instruments_that_are_not_exported(redcap, admin_token, site_a):
    factories.make_line(factories.make_patient(site_a, "P-1"), line_drug=2)
    factories.make_line(factories.make_patient(site_a, "P-2"), line_drug=1)

    rows = redcap(admin_token, "record", format="json", filterLogic="[line_drug] = 2",
                  **{"fields[0]": "record_id"}).json()

    assert rows == [{"record_id": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": ""}]


def test_bad_filter_logic_is_a_400(redcap, admin_token, registry):
    answer = redcap(admin_token, "record", format="json", filterLogic='[sex] = "2" and')

    assert (answer.status, answer.json()) == (400, {"error": "filterLogic ends too early"})


def test_the_date_range_keeps_records_changed_in_it(redcap, admin_token, site_a):
    old = factories.make_patient(site_a, "OLD")
    factories.make_patient(site_a, "NEW")
    long_ago = timezone.now() - timedelta(days=30)
    Patient.history.filter(id=old.id).update(history_date=long_ago)
    begin = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")

    recent = redcap(admin_token, "record", format="json", dateRangeBegin=begin, **{"fields[0]": "record_id"}).json()
    before = redcap(admin_token, "record", format="json", dateRangeEnd=begin, **{"fields[0]": "record_id"}).json()

    assert [row["record_id"] for row in recent] == ["NEW"]
    assert [row["record_id"] for row in before] == ["OLD"]
    factories.make_line(old)  # a change of one of its instruments brings it back
    assert len(redcap(admin_token, "record", format="json", dateRangeBegin=begin,
                      **{"fields[0]": "record_id"}).json()) == 2
    assert redcap(admin_token, "record", format="json", dateRangeBegin="yesterday").status == 400


def test_xml_is_redcaps_records_and_items(redcap, admin_token, site_a):
    factories.make_patient(site_a, "P-1", mrn="A&B")

    text = redcap(admin_token, "record", **{"fields[0]": "mrn"}).text  # no format: REDCap's default, xml

    assert text == (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<records>\n<item><record_id>P-1</record_id>'
        "<redcap_repeat_instrument></redcap_repeat_instrument><redcap_repeat_instance></redcap_repeat_instance>"
        "<mrn>A&amp;B</mrn></item>\n</records>\n"
    )


def test_the_export_reads_a_fixed_number_of_queries_per_batch_of_patients(
    redcap, coordinator_token, site_a, monkeypatch, django_assert_num_queries,
):
    for number in range(5):
        factories.make_line(factories.make_patient(site_a, f"P-{number}"))
    redcap(coordinator_token, "version")  # the token's first use writes last_used_at once
    monkeypatch.setattr(flat_export, "BATCH_PATIENTS", 2)

    # The token; the coordinator's role and sites; the identified-export log (the records selected with
    # their sites, its row: 2); the record IDs; then per batch of 2 patients (3 batches) the patients and
    # one query per repeating instrument (7); and whether a record selected holds a missing-data code in
    # a checkbox field (its code columns are then written): one per model with such fields, the patient
    # (alk_method) and the assessment (ta_scope, ta_new_sites) (2).
    with django_assert_num_queries(1 + 2 + 2 + 1 + 3 * (1 + 7) + 2):
        rows = redcap(coordinator_token, "record", format="json").json()
    # With only treatment lines asked for, the other instruments' tables are not read (nor checked for codes).
    with django_assert_num_queries(1 + 2 + 2 + 1 + 3 * (1 + 1)):
        only_lines = redcap(coordinator_token, "record", format="json", forms="treatment_line").json()

    assert len(rows) == len(only_lines) == 10


def test_an_export_of_many_patients_costs_as_many_queries_as_of_few(redcap, admin_token, site_a, site_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert redcap(admin_token, "record", format="csv").status == 200
        return len(captured.captured_queries)

    redcap(admin_token, "version")
    for number in range(5):
        factories.make_full_patient(site_a, f"FEW-{number}")
    few = queries()
    for number in range(20):
        factories.make_full_patient(site_b, f"MANY-{number}")

    # token, the identified-export log (2), record IDs, the batch's patients, 7 instruments, and one per
    # model with checkbox fields that take a missing-data code (patient, assessment: whether a record holds one)
    assert queries() == few == 1 + 2 + 1 + 1 + 7 + 2


def test_the_first_rows_are_sent_before_the_later_batches_are_read(client, coordinator_token, site_a, monkeypatch):
    from urllib.parse import urlencode

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.api.redcap import responses
    from tests.redcap.client import URL

    for number in range(6):
        factories.make_line(factories.make_patient(site_a, f"P-{number}"))
    monkeypatch.setattr(flat_export, "BATCH_PATIENTS", 2)
    monkeypatch.setattr(responses, "CHUNK_CHARACTERS", 100)
    body = urlencode({"token": coordinator_token, "content": "record", "format": "csv", "forms": "treatment_line"})

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, data=body, content_type="application/x-www-form-urlencoded")
        chunks = iter(response.streaming_content)
        first = next(chunks)
        read_for_the_first_chunk = len(queries.captured_queries)
        rest = b"".join(chunks)

    # The token (and its first use), the coordinator's role and sites, the identified-export log (2), the
    # record IDs, then the first batch: its patients and its treatment lines. The two other batches are
    # read as the rest is sent.
    assert read_for_the_first_chunk == 2 + 2 + 2 + 1 + 2
    assert len(queries.captured_queries) == read_for_the_first_chunk + 2 * 2
    assert (first + rest).decode().count("\n") == 1 + 6 * 2


def test_csv_delimiter_chooses_the_separator(redcap, admin_token, site_a):
    factories.make_patient(site_a, "P-1", mrn="A,B")

    text = redcap(admin_token, "record", format="csv", csvDelimiter="tab", **{"fields[0]": "mrn"}).text

    assert text == "record_id\tredcap_repeat_instrument\tredcap_repeat_instance\tmrn\nP-1\t\t\tA,B\n"
    assert redcap(admin_token, "record", format="csv", csvDelimiter="#").status == 400


def test_filter_logic_may_name_the_data_access_group(redcap, admin_token, registry):
    rows = redcap(admin_token, "record", format="json", filterLogic='[redcap_data_access_group] = "site-b"',
                  **{"fields[0]": "record_id"}).json()

    assert [row["record_id"] for row in rows] == ["B-001"]
