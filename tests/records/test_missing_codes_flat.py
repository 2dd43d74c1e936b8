"""Missing-data codes in REDCap flat files: the code travels in the cell, as in REDCap (issue 12 §4)."""
import io
from datetime import date

from registry.models import Patient, TreatmentLine, TumorAssessment
from registry.services.records import records_export, records_import
from tests import factories
from tests.records.flat_files import EMPTY, csv_text, instance_row, record_row, row_counts, write_csv

LINE = {"line_no": "1", "line_type": "1", "line_drug": "2", "line_start": "2020-01-15"}


def _export() -> str:
    output = io.StringIO()
    records_export(output=output)
    return output.getvalue()


def _import(site, path, **options):
    return records_import(source=path, file_format="csv", site=site, user=None, **options)


def test_a_code_in_a_codable_cell_stores_null_and_the_code(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", sex="2", adv_dx_date="2020-01-10", birth_date="NASK", vital="2", death_date="UNK"),
        instance_row("EX-1", "treatment_line", 1, **LINE, line_end="UNK", line_end_reason="1", line_ecog="ND"),
        instance_row("EX-1", "tumor_assessment", 1, ta_date="2020-03-01", ta_new_lesion="ASKU"),
    ])

    result = _import(site_a, path)

    assert result.problems == []
    patient = Patient.objects.get(record_id="EX-1")
    assert (patient.birth_date, patient.birth_date_missing) == (None, "NASK")
    assert (patient.vital, patient.death_date, patient.death_date_missing) == (2, None, "UNK")
    line = TreatmentLine.objects.get()
    assert (line.line_end, line.line_end_missing, line.line_end_reason) == (None, "UNK", 1)
    assert (line.line_ecog, line.line_ecog_missing) == (None, "ND")
    assessment = TumorAssessment.objects.get()
    assert (assessment.ta_new_lesion, assessment.ta_new_lesion_missing) == (None, "ASKU")


def test_a_flat_export_with_codes_imports_into_an_empty_registry_and_exports_identically(site_a):
    # Given a record with codes in a date, a yes/no, a radio, a number and a text of several forms
    patient = factories.make_patient(site_a, "EX-1", birth_date_missing="NASK", smoking_missing="UNK",
                                     mrn_missing="NI", vital=2, death_date_missing="UNK")
    factories.make_line(patient, line_end_missing="UNK", line_end_reason=1, line_beyond_pd_missing="NA")
    assessment = factories.make_assessment(patient, ta_new_lesion_missing="ASKU", ta_reported_missing="NAVU")
    lesion = factories.make_lesion(patient)
    factories.make_measurement(assessment, lesion, lm_status=1, lm_mm=None, lm_mm_missing="UNK")
    first = _export()
    # (the cells are the codes: REDCap's own export writes them so)
    assert "NASK" in first and ",UNK," in first and "NAVU" in first
    Patient.objects.all().delete()

    result = records_import(source=io.BytesIO(first.encode()), file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert _export() == first
    assert TreatmentLine.objects.get().line_end_missing == "UNK"


def test_a_code_in_a_field_that_dates_a_record_is_a_problem_and_nothing_is_imported(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", sex="2", adv_dx_date="2020-01-10"),
        instance_row("EX-1", "treatment_line", 1, **{**LINE, "line_start": "UNK"}),
        instance_row("EX-1", "tumor_assessment", 1, ta_date="2020-03-01", ta_scope___1="NI"),
    ])

    result = _import(site_a, path)

    assert {(p.record, p.field, p.value, p.reason) for p in result.problems} == {
        ("EX-1", "line_start", "UNK",
         "is a missing-data code (UNK unknown), but line_start identifies or dates a record and takes none"),
        # (a checkbox field takes its code in the code's own column: tests/records/test_checkbox_missing_codes_flat.py)
        ("EX-1", "ta_scope___1", "NI",
         "is a missing-data code (NI no information), but a checkbox option takes none (1 ticked, 0 not ticked): "
         "tick the code's own column ta_scope___ni (1) instead"),
    }
    assert row_counts() == EMPTY


def test_a_code_in_a_required_field_is_stored_and_exported_back_in_its_cell(site_a, tmp_path):
    # Issue 12 §4: every field but those that identify or date a record takes a code, required ones too.
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", sex="UNK", adv_dx_date="ASKU"),
        instance_row("EX-1", "treatment_line", 1, line_no="1", line_type="NI", line_drug="UNK", line_start="2020-01-15"),
    ])

    result = _import(site_a, path)

    assert result.problems == []
    patient = Patient.objects.get(record_id="EX-1")
    assert (patient.sex, patient.sex_missing, patient.adv_dx_date, patient.adv_dx_date_missing) == (None, "UNK", None, "ASKU")
    line = TreatmentLine.objects.get()
    assert (line.line_type, line.line_type_missing, line.line_drug, line.line_drug_missing) == (None, "NI", None, "UNK")
    exported = _export()
    assert _export_cell(exported, "EX-1", "sex") == "UNK"
    assert _export_cell(exported, "EX-1", "line_type", instance="1") == "NI"


def test_a_required_field_blank_without_a_code_is_still_a_problem(site_a, tmp_path):
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", sex="", adv_dx_date="2020-01-10")])

    result = _import(site_a, path)

    assert [(p.field, p.reason) for p in result.problems] == [("sex", "is required but is blank")]
    assert row_counts() == EMPTY


def _export_cell(exported: str, record: str, column: str, *, instance: str = "") -> str:
    import csv
    for row in csv.DictReader(io.StringIO(exported)):
        if row["record_id"] == record and row["redcap_repeat_instance"] == instance and row[column]:
            return row[column]
    return ""


def test_a_value_replaces_a_code_and_a_code_replaces_a_value(site_a, tmp_path):
    patient = factories.make_patient(site_a, "EX-1", birth_date=date(1960, 1, 1), death_date_missing="UNK", vital=2)
    path = write_csv(tmp_path, "codes.csv", [
        record_row("EX-1", birth_date="ASKU", death_date="2022-04-30"),
    ])

    result = _import(site_a, path)

    assert result.problems == []
    patient.refresh_from_db()
    assert (patient.birth_date, patient.birth_date_missing) == (None, "ASKU")
    assert (patient.death_date, patient.death_date_missing) == (date(2022, 4, 30), "")
    assert patient.history.first().birth_date_missing == "ASKU"


def test_a_blank_cell_erases_a_code_only_when_overwriting(site_a, tmp_path):
    factories.make_patient(site_a, "EX-1", birth_date_missing="NASK")
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", birth_date="")])

    _import(site_a, path)
    assert Patient.objects.get().birth_date_missing == "NASK"
    _import(site_a, path, overwrite_behavior="overwrite")
    assert Patient.objects.get().birth_date_missing == ""


def test_importing_the_same_codes_again_changes_nothing(site_a, tmp_path):
    factories.make_patient(site_a, "EX-1", birth_date_missing="NASK")
    path = write_csv(tmp_path, "codes.csv", [record_row("EX-1", birth_date="NASK")])

    result = _import(site_a, path)

    assert result.updated["enrollment"] == 0
    assert Patient.objects.get().history.count() == 1


def test_a_vital_status_spreadsheet_takes_a_code_and_exports_it(site_a):
    import tablib

    from registry.records.spreadsheets import VitalStatusResource, spreadsheet_problems
    factories.make_patient(site_a, "EX-1", vital=1)
    sheet = tablib.Dataset().load(
        "record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete\nEX-1,2024-01-10,2,UNK,NI,2\n",
        format="csv",
    )

    result = VitalStatusResource().import_data(sheet, dry_run=False)

    assert spreadsheet_problems(result) == []
    patient = Patient.objects.get()
    assert (patient.death_date, patient.death_date_missing, patient.death_cause, patient.death_cause_missing) == (
        None, "UNK", None, "NI",
    )
    exported = VitalStatusResource().export().csv
    assert exported.splitlines()[1] == "EX-1,2024-01-10,2,UNK,NI,2"


def test_a_spreadsheet_code_in_a_field_that_takes_none_is_refused_and_nothing_written(site_a):
    import tablib

    from registry.records.spreadsheets import VitalStatusResource, spreadsheet_problems
    factories.make_patient(site_a, "EX-1", vital=1)
    sheet = tablib.Dataset().load(
        "record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete\nEX-1,2024-01-10,2,,,UNK\n",
        format="csv",
    )

    result = VitalStatusResource().import_data(sheet, dry_run=False)

    assert [problem[2:] for problem in spreadsheet_problems(result)] == [(
        "vital_status_complete", "UNK",
        '"UNK" is a missing-data code (UNK unknown), but vital_status_complete takes none (it identifies or '
        "dates a record, or is a checkbox option or status)",
    )]
    assert Patient.objects.get().vital == 1
