"""A checkbox field's missing-data code in REDCap flat files (issue 12 §4): REDCap offers each code as one
more option of the field, a column of its own after the real options (`alk_method___unk`, the code
lowercased), written only when a record of the export holds a code in the field."""
import csv
import io

import pytest

from registry.models import Patient, TumorAssessment
from registry.services.records import records_export, records_import
from tests import factories
from tests.records.flat_files import EMPTY, instance_row, record_row, row_counts, write_csv

pytestmark = pytest.mark.django_db

ENROLLED = {"sex": "2", "adv_dx_date": "2020-01-10"}
CODE_COLUMNS = ["alk_method___ni", "alk_method___unk", "alk_method___nask", "alk_method___asku", "alk_method___na",
                "alk_method___navu", "alk_method___nd"]


def _export() -> str:
    output = io.StringIO()
    records_export(output=output)
    return output.getvalue()


def _rows(exported: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(exported)))


def _import(site, path, **options):
    return records_import(source=path, file_format="csv", site=site, user=None, **options)


def test_a_ticked_code_column_stores_the_code_and_no_option(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", **ENROLLED, alk_method___1="", alk_method___unk="1", alk_method___nd="0"),
        instance_row("EX-1", "tumor_assessment", 1, ta_date="2020-03-01", ta_scope___nask="1"),
    ])

    result = _import(site_a, path)

    assert result.problems == []
    patient = Patient.objects.get()
    assert patient.alk_method_missing == "UNK"
    assert [getattr(patient, f"alk_method_{code}") for code in range(1, 6)] == [False] * 5
    assert TumorAssessment.objects.get().ta_scope_missing == "NASK"


def test_the_export_writes_the_code_columns_after_the_options_only_when_a_record_holds_such_a_code(site_a):
    factories.make_patient(site_a, "EX-1", alk_method_2=True)
    header_without = _export().splitlines()[0].split(",")
    factories.make_patient(site_a, "EX-2", alk_method_missing="ASKU")

    exported = _export()

    # As REDCap: no record codes alk_method, no code column; one does, all seven after alk_method___5.
    assert not set(CODE_COLUMNS) & set(header_without)
    header = exported.splitlines()[0].split(",")
    assert header[header.index("alk_method___5") + 1:header.index("alk_method___5") + 8] == CODE_COLUMNS
    assert "ta_scope___unk" not in header  # no assessment codes ta_scope
    rows = {row["record_id"]: row for row in _rows(exported)}
    # The coded record: its options blank, its code 1 and the others 0; the other record: its codes blank.
    assert [rows["EX-2"][f"alk_method___{code}"] for code in range(1, 6)] == [""] * 5
    assert [rows["EX-2"][column] for column in CODE_COLUMNS] == ["0", "0", "0", "1", "0", "0", "0"]
    assert [rows["EX-1"][f"alk_method___{code}"] for code in range(1, 6)] == ["0", "1", "0", "0", "0"]
    assert [rows["EX-1"][column] for column in CODE_COLUMNS] == [""] * 7


def test_a_flat_export_with_checkbox_codes_imports_into_an_empty_registry_and_exports_identically(site_a):
    patient = factories.make_patient(site_a, "EX-1", alk_method_missing="NI")
    factories.make_assessment(patient, ta_scope_missing="ND")
    factories.make_patient(site_a, "EX-2", alk_method_1=True, alk_method_3=True)
    first = _export()
    Patient.objects.all().delete()

    result = records_import(source=io.BytesIO(first.encode()), file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert _export() == first
    assert TumorAssessment.objects.get().ta_scope_missing == "ND"


def test_a_code_and_a_ticked_option_in_one_row_refuse_the_whole_file(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-0", **ENROLLED, alk_method___1="1"),
        record_row("EX-1", **ENROLLED, alk_method___2="1", alk_method___3="1", alk_method___unk="1"),
        record_row("EX-2", **ENROLLED, alk_method___ni="1", alk_method___nd="1"),
    ])

    result = _import(site_a, path)

    assert {(p.record, p.field, p.value, p.reason) for p in result.problems} == {
        ("EX-1", "alk_method___unk", "1", "ticks the missing-data code UNK while alk_method___2, alk_method___3 are "
                                          "ticked: a checkbox field holds ticked options or a code, never both"),
        ("EX-2", "alk_method___nd", "1",
         "ticks the missing-data code ND besides NI (alk_method___ni): a checkbox field holds one code at most"),
    }
    assert row_counts() == EMPTY  # EX-0, valid, is not written either


def test_a_code_typed_in_an_option_cell_names_the_codes_own_column(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", **ENROLLED, alk_method___2="UNK")])

    result = _import(site_a, path)

    assert [(p.field, p.value, p.reason) for p in result.problems] == [(
        "alk_method___2", "UNK", "is a missing-data code (UNK unknown), but a checkbox option takes none (1 ticked, "
                                 "0 not ticked): tick the code's own column alk_method___unk (1) instead")]
    assert row_counts() == EMPTY


def test_a_ticked_option_replaces_a_stored_code_and_a_ticked_code_unticks_the_options(site_a, tmp_path):
    factories.make_patient(site_a, "EX-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "EX-2", alk_method_4=True)
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", alk_method___4="1"),
        record_row("EX-2", alk_method___nask="1"),
    ])

    result = _import(site_a, path)

    assert result.problems == []
    first, second = Patient.objects.order_by("record_id")
    assert (first.alk_method_4, first.alk_method_missing) == (True, "")
    assert (second.alk_method_4, second.alk_method_missing) == (False, "NASK")
    assert second.history.first().alk_method_missing == "NASK"


def test_an_unticked_code_column_clears_only_its_own_code(site_a, tmp_path):
    factories.make_patient(site_a, "EX-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "EX-2", alk_method_missing="NI")
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", alk_method___unk="0"),
                                             record_row("EX-2", alk_method___unk="0")])

    _import(site_a, path)

    assert list(Patient.objects.order_by("record_id").values_list("alk_method_missing", flat=True)) == ["", "NI"]


def test_importing_the_same_checkbox_code_again_changes_nothing(site_a, tmp_path):
    factories.make_patient(site_a, "EX-1", alk_method_missing="UNK")
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", alk_method___1="", alk_method___unk="1",
                                                        alk_method___ni="0")])

    result = _import(site_a, path)

    assert result.updated["enrollment"] == 0
    assert Patient.objects.get().history.count() == 1
