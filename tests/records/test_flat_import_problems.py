"""A file with any bad value writes nothing and reports every problem, with its line."""
import io
import json

import pytest
from django.core.exceptions import PermissionDenied

from registry.models import Patient, Role
from registry.services.records import ImportProblem, records_import
from tests import factories
from tests.records.flat_files import EMPTY, EVERY_INSTRUMENT_CSV, instance_row, record_row, row_counts, write_csv


def _problems(result) -> set[tuple]:
    return {(problem.line, problem.record, problem.field, problem.value) for problem in result.problems}


def test_a_file_with_many_bad_rows_reports_every_problem_and_writes_nothing(site_a, site_b, tmp_path):
    # Given a patient of another site, and a file with a bad value on most rows (line numbers on the left)
    factories.make_patient(site_b, "STORED-B")
    counts_before = row_counts()
    line = {"line_type": "1", "line_drug": "2"}
    lesion = {"les_line": "1", "les_class": "1", "les_site": "1"}
    rows = [
        # 1: header, with a column the project does not have
        record_row("EX-1", sex="2", adv_dx_date="2020-01-10", favourite_colour="blue"),  # 2: good
        record_row("EX-6", sex="2", adv_dx_date="2020-01-10", birth_date="1960-02-30"),  # 3
        instance_row("EX-1", "treatment_line", 1, line_no="1", line_start="2020/01/15", **line),  # 4
        instance_row("EX-1", "treatment_line", 2, line_no="2", line_start="2021-01-01", line_end="2020-12-01",
                     **line),  # 5
        instance_row("EX-1", "treatment_line", "", line_no="3", line_start="2021-01-01", **line),  # 6
        instance_row("EX-1", "chemo_cycle", 1),  # 7
        record_row("EX-2", redcap_repeat_instance="1", sex="1", adv_dx_date="2020-01-01"),  # 8
        instance_row("EX-1", "tumor_assessment", 1, ta_date="2020-02-01", line_no="4"),  # 9
        instance_row("EX-1", "tumor_assessment", 2, ta_date="2020-03-01"),  # 10: good
        instance_row("EX-1", "tumor_assessment", 3, ta_date="2020-03-01"),  # 11
        instance_row("EX-1", "lesion", 1, les_id="L1", **{**lesion, "les_class": "3"}),  # 12
        instance_row("EX-1", "lesion", 2, les_id="L2", **{**lesion, "les_line": "-1"}),  # 13
        instance_row("EX-1", "lesion", 3, les_id="L3", **lesion),  # 14: good
        instance_row("EX-1", "lesion", 4, les_id="L3", **lesion),  # 15
        instance_row("EX-1", "lesion_measurement", 1, lm_date="2020-05-01", lm_lesion="L3", lm_status="1",
                     lm_mm="10"),  # 16
        instance_row("EX-1", "lesion_measurement", 2, lm_date="2020-03-01", lm_lesion="L9", lm_status="1",
                     lm_mm="10"),  # 17
        instance_row("EX-1", "lesion_measurement", 3, lm_date="2020-03-01", lm_lesion="L3", lm_status="2",
                     lm_mm="5"),  # 18
        instance_row("EX-1", "lesion_measurement", 4, lm_date="2020-03-01", lm_lesion="L3", lm_status="1",
                     lm_mm="123456"),  # 19
        instance_row("EX-1", "lesion_measurement", 5, lm_date="2020-03-01", lm_lesion="L3", lm_status="1",
                     lm_mm="12"),  # 20: good
        instance_row("EX-1", "lesion_measurement", 6, lm_date="2020-03-01", lm_lesion="L3", lm_status="1",
                     lm_mm="13"),  # 21
        instance_row("EX-1", "lesion_measurement", 5, lm_date="2020-03-01", lm_lesion="L3", lm_status="1",
                     lm_mm="12"),  # 22
        instance_row("EX-1", "biopsy", 1, bx_date="2020-04-01", bx_specimen="1", bx_ngs_panel="x" * 201),  # 23
        instance_row("EX-1", "ngs_variant", 1, var_bx_date="2020-04-02", var_gene="ALK", var_kind="1"),  # 24
        instance_row("EX-1", "ngs_variant", 2, var_bx_date="", var_gene="ALK", var_kind="1"),  # 25
        instance_row("EX-3", "treatment_line", 1, line_no="1", line_start="2021-01-01", **line),  # 26
        record_row("EX-4", sex="", adv_dx_date="2020-01-01"),  # 27
        record_row("EX-5", sex="1", adv_dx_date="2020-01-01", birth_date="1960-01-01",
                   death_date="1950-01-01"),  # 28
        record_row("", sex="1", adv_dx_date="2020-01-01"),  # 29
        record_row("EX-1", sex="2", adv_dx_date="2020-01-10"),  # 30
        record_row("STORED-B", mrn="B-1"),  # 31
        instance_row("EX-1", "treatment_line", 4, line_no="two", line_start="2022-01-01", **line),  # 32
        instance_row("EX-1", "tumor_assessment", 4, ta_date="2020-06-01", ta_new_lesion="0",
                     ta_new_count="2"),  # 33
    ]
    path = write_csv(tmp_path, "bad.csv", rows)

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert _problems(result) == {
        (1, "", "favourite_colour", ""),
        (3, "EX-6", "birth_date", "1960-02-30"),
        (4, "EX-1", "line_start", "2020/01/15"),
        (5, "EX-1", "line_end", "2020-12-01"),
        (6, "EX-1", "redcap_repeat_instance", ""),
        (7, "EX-1", "redcap_repeat_instrument", "chemo_cycle"),
        (8, "EX-2", "redcap_repeat_instance", "1"),
        (9, "EX-1", "line_no", "4"),
        (11, "EX-1", "ta_date", "2020-03-01"),
        (12, "EX-1", "les_class", "3"),
        (13, "EX-1", "les_line", "-1"),
        (15, "EX-1", "les_id", "L3"),
        (16, "EX-1", "lm_date", "2020-05-01"),
        (17, "EX-1", "lm_lesion", "L9"),
        (18, "EX-1", "lm_mm", "5"),
        (19, "EX-1", "lm_mm", "123456"),
        (21, "EX-1", "lm_lesion", "L3"),
        (22, "EX-1", "redcap_repeat_instance", "5"),
        (23, "EX-1", "bx_ngs_panel", "x" * 201),
        (24, "EX-1", "var_bx_date", "2020-04-02"),
        (25, "EX-1", "var_bx_date", ""),
        (26, "EX-3", "record_id", "EX-3"),
        (27, "EX-4", "sex", ""),
        (28, "EX-5", "death_date", "1950-01-01"),
        (29, "", "record_id", ""),
        (30, "EX-1", "record_id", "EX-1"),
        (31, "STORED-B", "record_id", "STORED-B"),
        (32, "EX-1", "line_no", "two"),
        (33, "EX-1", "ta_new_count", "2"),
    }
    reasons = {(problem.line, problem.field): problem.reason for problem in result.problems}
    assert reasons[(3, "birth_date")] == "is not a real calendar date"
    assert reasons[(4, "line_start")] == "is not a date in YYYY-MM-DD format"
    assert reasons[(5, "line_end")] == "The line cannot end (2020-12-01) before it starts (2021-01-01)."
    assert reasons[(9, "line_no")] == "belongs to the instrument treatment_line, not to tumor_assessment"
    assert reasons[(11, "ta_date")] == "another tumor assessment of this patient (instance 2) is dated 2020-03-01"
    assert reasons[(16, "lm_date")] == "no tumor assessment of this patient is dated 2020-05-01"
    assert reasons[(17, "lm_lesion")] == "no lesion of this patient is identified as L9"
    # The dictionary's range (lm_mm 0 to 500, les_line from 1) is a soft check, not a refusal
    # (tests/records/test_import_warnings.py); what the column cannot hold stays a refusal.
    assert reasons[(13, "les_line")] == "Ensure this value is greater than or equal to 0."
    assert reasons[(19, "lm_mm")] == "Ensure that there are no more than 5 digits before the decimal point."
    assert reasons[(21, "lm_lesion")] == (
        "another measurement of this patient (instance 5) is of lesion L3 at the assessment of 2020-03-01"
    )
    assert reasons[(23, "bx_ngs_panel")] == "is longer than the 200 characters this field holds"
    assert reasons[(24, "var_bx_date")] == "no biopsy of this patient is dated 2020-04-02"
    assert reasons[(25, "var_bx_date")] == "is required but is blank"
    assert reasons[(31, "record_id")] == "belongs to site site-b; an import never moves a record to another site"
    assert result.problems[0] == ImportProblem(1, "", "", "", "favourite_colour", "",
                                               "is not a column of this project's flat export")
    assert row_counts() == counts_before
    assert Patient.objects.get(record_id="STORED-B").mrn == ""


def test_one_bad_value_among_good_rows_writes_nothing(site_a, tmp_path):
    # Given the every-instrument file with one diameter written with a decimal comma
    text = EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")
    assert text.count(",L1-T1,1,12.5,") == 1
    path = tmp_path / "one_bad.csv"
    path.write_text(text.replace(",L1-T1,1,12.5,", ',L1-T1,1,"12,5",'), encoding="utf-8")

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.problems == [ImportProblem(
        43, "EX-003", "lesion_measurement", "2", "lm_mm", "12,5",
        "is not a number (digits with an optional decimal point)",
    )]
    assert row_counts() == EMPTY


def test_a_coordinator_may_not_import_into_a_site_that_is_not_theirs(site_a, site_b, coordinator_a, tmp_path):
    path = write_csv(tmp_path, "b.csv", [record_row("NEW-1", sex="1", adv_dx_date="2020-01-01")])

    with pytest.raises(PermissionDenied):
        records_import(source=path, file_format="csv", site=site_b, user=coordinator_a)

    assert row_counts() == EMPTY


def test_a_viewer_may_not_import_at_all(site_a, tmp_path):
    viewer = factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a])
    path = write_csv(tmp_path, "a.csv", [record_row("NEW-1", sex="1", adv_dx_date="2020-01-01")])

    with pytest.raises(PermissionDenied):
        records_import(source=path, file_format="csv", site=site_a, user=viewer)

    assert row_counts() == EMPTY


def test_without_a_site_a_file_may_only_change_records_the_user_may_change(site_a, site_b, coordinator_a, tmp_path):
    # Given one patient at each site, and a file touching both and creating a third
    factories.make_patient(site_a, "A-1")
    factories.make_patient(site_b, "B-1")
    counts_before = row_counts()
    path = write_csv(tmp_path, "no_site.csv", [
        record_row("A-1", mrn="MRN-A"),
        instance_row("B-1", "biopsy", 1, bx_date="2021-01-01", bx_specimen="2"),
        record_row("NEW-1", sex="1", adv_dx_date="2020-01-01"),
    ])

    result = records_import(source=path, file_format="csv", site=None, user=coordinator_a)

    assert [(p.line, p.record, p.field, p.reason) for p in result.problems] == [
        (4, "NEW-1", "record_id", "is a new record, but no site was chosen for new records"),
        # site-b's record is not named to a coordinator of site-a: neither its site nor its data
        (3, "B-1", "record_id",
         "A record with the ID B-1 exists already (record IDs are unique in the registry, ignoring letter case)"),
    ]
    assert row_counts() == counts_before
    assert Patient.objects.get(record_id="A-1").mrn == ""


def test_a_new_assessment_on_the_date_of_a_stored_one_is_refused(site_a, tmp_path):
    patient = factories.make_patient(site_a, "A-1")
    factories.make_assessment(patient, ta_date=factories.date(2020, 3, 4))
    counts_before = row_counts()
    path = write_csv(tmp_path, "a.csv", [instance_row("A-1", "tumor_assessment", 2, ta_date="2020-03-04")])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.problems == [ImportProblem(
        2, "A-1", "tumor_assessment", "2", "ta_date", "2020-03-04",
        "another tumor assessment of this patient (instance 1) is dated 2020-03-04",
    )]
    assert row_counts() == counts_before


def test_a_measurement_that_names_another_patients_lesion_is_refused(site_a, tmp_path):
    # Given lesion L1 exists only for patient A-2, while A-1 has the assessment
    first = factories.make_patient(site_a, "A-1")
    factories.make_assessment(first, ta_date=factories.date(2020, 3, 4))
    factories.make_lesion(factories.make_patient(site_a, "A-2"), "L1")
    counts_before = row_counts()
    path = write_csv(tmp_path, "m.csv", [instance_row(
        "A-1", "lesion_measurement", 1, lm_date="2020-03-04", lm_lesion="L1", lm_status="1", lm_mm="20",
    )])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert [(p.field, p.reason) for p in result.problems] == [
        ("lm_lesion", "no lesion of this patient is identified as L1"),
    ]
    assert row_counts() == counts_before


def test_a_row_with_more_values_than_the_header_is_refused(site_a, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("record_id,sex,adv_dx_date\nA-1,1,2020-01-01,extra\n", encoding="utf-8")

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.problems == [ImportProblem(2, "", "", "", "", "", "has 4 values, but the header names 3 columns")]
    assert row_counts() == EMPTY


def test_a_file_without_a_record_id_column_is_refused_whole(site_a, tmp_path):
    path = tmp_path / "no_id.csv"
    path.write_text("sex,adv_dx_date\n1,2020-01-01\n", encoding="utf-8")

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert [problem.reason for problem in result.problems] == [
        "The file has no record_id column (the first line must be the header)."
    ]
    assert row_counts() == EMPTY


def test_a_json_file_that_is_not_a_list_or_is_broken_is_refused(site_a):
    not_a_list = records_import(source=io.BytesIO(b'{"record_id": "A-1"}'), file_format="json", site=site_a,
                                user=None)
    broken = records_import(source=io.BytesIO(b'[{"record_id": "A-1", "sex": "1", "adv_dx_date": "2020-01-01"}, {"'),
                            file_format="json", site=site_a, user=None)

    assert [problem.reason for problem in not_a_list.problems] == [
        "The file is not a JSON list of records ([{...}, {...}])."
    ]
    assert [problem.reason[:28] for problem in broken.problems] == ["The file is not valid JSON ("]
    assert row_counts() == EMPTY


def test_checking_stops_after_the_maximum_number_of_problems(site_a, tmp_path):
    path = write_csv(tmp_path, "many.csv", [record_row(f"A-{n}", sex="7", adv_dx_date="2020-01-01") for n in range(5)])

    result = records_import(source=path, file_format="csv", site=site_a, user=None, max_problems=3)

    assert [(problem.line, problem.field) for problem in result.problems] == [
        (2, "sex"), (3, "sex"), (4, "sex"), (None, ""),
    ]
    assert result.problems[-1].reason == "Checking stopped after 3 problems."
    assert row_counts() == EMPTY


def test_every_one_per_patient_rule_of_the_models_is_checked_before_writing(db):
    # Given the models' unique constraints other than (patient, instance)
    from registry.records.flat_import import UNIQUE_KEYS
    from registry.records.instruments import REPEATING_INSTRUMENTS

    declared = {}
    for name, instrument in REPEATING_INSTRUMENTS.items():
        for fields in instrument.model._meta.total_unique_constraints:
            key = tuple(
                instrument.model._meta.get_field(field).attname for field in fields.fields if field != "patient"
            )
            if key != ("redcap_repeat_instance",):  # the key the import upserts on
                declared[name] = key

    assert {name: key.attributes for name, key in UNIQUE_KEYS.items()} == declared


def test_a_nul_character_is_a_problem_not_a_server_error(site_a, tmp_path):
    # PostgreSQL refuses NUL in text (a 500 before this check).
    counts_before = row_counts()
    source = io.BytesIO(json.dumps([{"record_id": "NEW-1", "mrn": "MRN\x00-1", "sex": "1",
                                     "adv_dx_date": "2020-01-01"}]).encode("utf-8"))

    result = records_import(source=source, file_format="json", site=site_a, user=None)

    assert [(p.record, p.field) for p in result.problems] == [("NEW-1", "mrn")]
    assert row_counts() == counts_before


def test_a_nul_character_in_a_record_id_is_a_problem(site_a, tmp_path):
    counts_before = row_counts()
    source = io.BytesIO(json.dumps([{"record_id": "NEW\x001", "sex": "1"}]).encode("utf-8"))

    result = records_import(source=source, file_format="json", site=site_a, user=None)

    assert [(p.field, p.reason) for p in result.problems] == [
        ("record_id", "contains a NUL character, which no field can hold")]
    assert row_counts() == counts_before
