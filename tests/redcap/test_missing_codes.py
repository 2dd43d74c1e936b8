"""Missing-data codes through the REDCap API: the code travels in the cell both ways (issue 12 §4)."""
import json

import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.records.flat_files import EMPTY, csv_text, instance_row, record_row, row_counts
from tests.redcap.conftest import make_token

LINE = {"line_no": "1", "line_type": "1", "line_drug": "2", "line_start": "2020-01-15"}


@pytest.fixture
def coded_record(site_a):
    patient = factories.make_patient(site_a, "EX-1", vital=2, death_date_missing="UNK")
    factories.make_line(patient, line_end_missing="NAVU")
    return patient


def test_the_export_writes_the_code_in_its_cell(redcap, admin_token, coded_record):
    rows = redcap(admin_token, "record", format="json").json()

    record_row_, line_row = rows
    assert (record_row_["vital"], record_row_["death_date"]) == ("2", "UNK")
    assert (line_row["redcap_repeat_instrument"], line_row["line_end"]) == ("treatment_line", "NAVU")


def test_a_de_identified_export_keeps_a_code_in_a_date_cell(redcap, coded_record, settings):
    settings.DEIDENTIFICATION_KEY = "a-test-key-of-more-than-32-characters-x"
    investigator = factories.make_user("investigator-1", role="investigator")

    rows = redcap(make_token(investigator), "record", format="json").json()

    assert rows[0]["death_date"] == "UNK"  # a code has no date to shift
    assert rows[1]["line_end"] == "NAVU"


@pytest.mark.parametrize("date_format", ["YMD", "DMY"])
def test_an_import_stores_a_code_as_null_and_the_code(redcap, coordinator_token, site_a, date_format):
    rows = [
        record_row("NEW-1", sex="1", adv_dx_date="2021-02-03" if date_format == "YMD" else "03/02/2021",
                   vital="2", death_date="ASKU"),
        instance_row("NEW-1", "treatment_line", 1, **{**LINE, "line_start": "2021-02-10" if date_format == "YMD"
                                                       else "10/02/2021"}, line_end="UNK", line_end_reason="1"),
    ]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json",
                    dateFormat=date_format)

    assert (answer.status, answer.json()) == (200, {"count": 1})
    patient = Patient.objects.get()
    assert (patient.death_date, patient.death_date_missing) == (None, "ASKU")
    line = TreatmentLine.objects.get()
    assert (line.line_end, line.line_end_missing, line.line_end_reason) == (None, "UNK", 1)


def test_a_code_in_a_field_that_takes_none_is_refused_naming_record_field_value_and_reason(
        redcap, coordinator_token, site_a):
    rows = [
        record_row("NEW-1", sex="1", adv_dx_date="2021-02-03"),
        instance_row("NEW-1", "treatment_line", 1, **{**LINE, "line_start": "NI"}),
    ]

    answer = redcap(coordinator_token, "record", format="csv", data=csv_text(rows), returnFormat="json")

    assert answer.status == 400
    assert answer.json()["error"].splitlines() == [
        '"NEW-1","line_start","NI","is a missing-data code (NI no information), but line_start identifies or dates '
        'a record and takes none (row 3, treatment_line instance 1)"',
    ]
    assert row_counts() == EMPTY


def test_an_export_with_codes_imports_back_unchanged(redcap, admin_token, coordinator_token, coded_record):
    exported = redcap(admin_token, "record", format="csv").text
    Patient.objects.all().delete()

    answer = redcap(coordinator_token, "record", format="csv", data=exported, returnFormat="json")

    assert answer.status == 200, answer.text
    assert redcap(admin_token, "record", format="csv").text == exported


def test_the_project_information_lists_the_codes_as_redcap_does(redcap, admin_token):
    information = redcap(admin_token, "project", format="json").json()

    assert information["missing_data_codes"] == (
        "NI, No information | UNK, Unknown | NASK, Not asked | ASKU, Asked but unknown | NA, Not applicable | "
        "NAVU, Not available | ND, Not done"
    )
