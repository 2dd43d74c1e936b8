"""A checkbox field's missing-data code through the REDCap API (issue 12 §4): one column per code after
the real options, as REDCap names them (`alk_method___unk`), written when a record exported holds such
a code; imported and exported back unchanged."""
import json

import pytest

from registry.models import Patient
from tests import factories
from tests.records.flat_files import EMPTY, record_row, row_counts

ENROLLED = {"sex": "2", "adv_dx_date": "2020-01-10"}
CODE_COLUMNS = ["alk_method___ni", "alk_method___unk", "alk_method___nask", "alk_method___asku", "alk_method___na",
                "alk_method___navu", "alk_method___nd"]


@pytest.fixture
def coded_record(site_a):
    return factories.make_patient(site_a, "EX-1", alk_method_missing="UNK")


def test_the_export_writes_the_code_columns_of_a_coded_checkbox(redcap, admin_token, coded_record):
    row = redcap(admin_token, "record", format="json").json()[0]

    assert [row[f"alk_method___{code}"] for code in range(1, 6)] == [""] * 5  # unknown, not unticked
    assert [row[column] for column in CODE_COLUMNS] == ["0", "1", "0", "0", "0", "0", "0"]
    assert list(row)[list(row).index("alk_method___5") + 1] == "alk_method___ni"


def test_asking_for_the_field_brings_its_code_columns_only_when_a_record_holds_a_code(redcap, admin_token, site_a):
    factories.make_patient(site_a, "EX-2", alk_method_1=True)
    without = redcap(admin_token, "record", format="json", fields="alk_method").json()[0]
    factories.make_patient(site_a, "EX-1", alk_method_missing="ND")

    rows = redcap(admin_token, "record", format="json", fields="alk_method").json()

    assert list(without) == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
                             *(f"alk_method___{code}" for code in range(1, 6))]
    assert list(rows[0])[3:] == [*(f"alk_method___{code}" for code in range(1, 6)), *CODE_COLUMNS]
    assert (rows[0]["alk_method___nd"], rows[1]["alk_method___nd"], rows[1]["alk_method___1"]) == ("1", "", "1")


def test_export_field_names_list_each_code_as_a_choice_of_the_field(redcap, admin_token):
    names = redcap(admin_token, "exportFieldNames", format="json", field="alk_method").json()

    assert [(row["choice_value"], row["export_field_name"]) for row in names] == [
        *((str(code), f"alk_method___{code}") for code in range(1, 6)),
        ("NI", "alk_method___ni"), ("UNK", "alk_method___unk"), ("NASK", "alk_method___nask"),
        ("ASKU", "alk_method___asku"), ("NA", "alk_method___na"), ("NAVU", "alk_method___navu"),
        ("ND", "alk_method___nd"),
    ]


def test_an_eav_export_gives_the_code_as_the_fields_value_and_a_label_export_checks_it(
        redcap, admin_token, coded_record):
    eav = redcap(admin_token, "record", format="json", type="eav", fields="alk_method").json()
    labelled = redcap(admin_token, "record", format="json", rawOrLabel="label", fields="alk_method",
                      exportCheckboxLabel="true").json()[0]

    # REDCap's EAV: one row per ticked choice, the code being the value; nothing for the blank options.
    assert [(row["field_name"], row["value"]) for row in eav if row["field_name"] != "record_id"] == [
        ("alk_method", "UNK")]
    assert (labelled["alk_method___unk"], labelled["alk_method___ni"], labelled["alk_method___1"]) == (
        "Unknown", "", "")


def test_an_import_stores_the_code_and_an_export_imports_back_unchanged(redcap, admin_token, coordinator_token,
                                                                         site_a):
    rows = [record_row("NEW-1", **ENROLLED, alk_method___asku="1")]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json")

    assert (answer.status, answer.json()) == (200, {"count": 1})
    assert Patient.objects.get().alk_method_missing == "ASKU"
    exported = redcap(admin_token, "record", format="csv").text
    Patient.objects.all().delete()
    again = redcap(coordinator_token, "record", format="csv", data=exported, returnFormat="json")
    assert again.status == 200, again.text
    assert redcap(admin_token, "record", format="csv").text == exported


def test_a_code_with_a_ticked_option_is_refused_and_nothing_is_written(redcap, coordinator_token, site_a):
    rows = [record_row("NEW-0", **ENROLLED, alk_method___1="1"),
            record_row("NEW-1", **ENROLLED, alk_method___1="1", alk_method___unk="1")]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json")

    assert answer.status == 400
    assert answer.json()["error"].splitlines() == [
        '"NEW-1","alk_method___unk","1","ticks the missing-data code UNK while alk_method___1 is ticked: a checkbox '
        'field holds ticked options or a code, never both (item 2)"',
    ]
    assert row_counts() == EMPTY


def test_filter_logic_names_a_checkbox_code_as_redcap_does(redcap, admin_token, site_a):
    factories.make_patient(site_a, "EX-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "EX-2", alk_method_missing="NI")
    factories.make_patient(site_a, "EX-3", alk_method_2=True)

    rows = redcap(admin_token, "record", format="json", filterLogic="[alk_method(UNK)] = '1'").json()

    assert [row["record_id"] for row in rows] == ["EX-1"]
