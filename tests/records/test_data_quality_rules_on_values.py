"""The built-in rules on one record's values, without a database: missing-data codes (rule I, and
A not counting them), branching logic, checkboxes, and the outlier rule's minimum of 30 values."""
from registry.records.data_quality import (
    InstanceValues, RecordValues, new_numbers, outlier_hits, record_hits,
)

COMPLETE = {
    "mrn": "M-1", "birth_date": "1960-01-01", "sex": "2", "smoking": "0", "histology": "1", "alk_method___1": "1",
    "alk_method___2": "0", "alk_variant": "1", "consent_date": "2020-03-05", "adv_dx_date": "2020-03-02",
    "stage_dx": "4", "cns_mets_dx": "0",
}


def _record(values=None, missing=None, instances=()) -> RecordValues:
    return RecordValues(1, 7, "R-1", {**COMPLETE, **(values or {})}, missing or {}, list(instances))


def _found(hits) -> set[tuple]:
    return {(hit.rule, hit.form, hit.instance, hit.field, hit.value) for hit in hits}


def test_a_complete_enrollment_without_vital_status_gives_no_hit():
    assert record_hits(_record()) == []


def test_a_field_holding_a_missing_data_code_is_rule_i_and_not_a_blank_value():
    record = _record({"smoking": "", "consent_date": ""}, missing={"smoking": "UNK"})

    # smoking holds UNK: I, not A; consent_date is blank without a code: A.
    assert _found(record_hits(record)) == {
        ("I", "enrollment", None, "smoking", "UNK"),
        ("A", "enrollment", None, "consent_date", ""),
    }


def test_a_checkbox_with_no_option_ticked_is_blank():
    assert _found(record_hits(_record({"alk_method___1": "0"}))) == {("A", "enrollment", None, "alk_method", "")}


def test_a_vital_status_form_is_checked_once_started_and_hidden_fields_are_not_blank():
    # vital 1 (alive): death_date and death_cause are hidden ([vital] = '2'), so only the last alive
    # date counts as blank.
    assert _found(record_hits(_record({"vital": "1"}))) == {("A", "vital_status", None, "last_alive_date", "")}


def test_a_hidden_field_holding_a_missing_data_code_is_rules_i_and_f():
    record = _record({"vital": "1", "last_alive_date": "2023-01-01"}, missing={"death_date": "NA"})

    assert _found(record_hits(record)) == {
        ("I", "vital_status", None, "death_date", "NA"), ("F", "vital_status", None, "death_date", "NA")}


def test_branching_logic_on_an_instance_reads_its_own_values():
    line = {"line_no": "1", "line_type": "1", "line_drug": "99", "line_start": "2020-03-10", "line_end": "",
            "line_ecog": "1", "line_cns_mets": "0", "line_beyond_pd": "0", "line_drug_other": "Lorlatinib"}
    record = _record(instances=[InstanceValues("treatment_line", 1, line, {})])

    # drug 99 shows line_drug_other (filled) and, with line_type 1, line_tki_generation (blank); an
    # ongoing line (no end) hides its end reason but its end date itself is a blank field.
    assert _found(record_hits(record)) == {
        ("A", "treatment_line", 1, "line_tki_generation", ""), ("A", "treatment_line", 1, "line_end", "")}


def _vaf_records(values: list[str]) -> list[RecordValues]:
    variant = {"var_bx_date": "2021-01-01", "var_gene": "ALK", "var_kind": "4"}
    return [_record(instances=[InstanceValues("ngs_variant", 1, {**variant, "var_vaf": value}, {})])
            for value in values]


def test_outliers_need_thirty_values():
    # 29 values of 10 and one of 90: mean 12.667, sample SD sqrt((29 * 2.667^2 + 77.333^2) / 29)
    # = sqrt(6186.67 / 29) = 14.606; 90 is 5.29 SD away, each 10 is 0.18 SD away.
    numbers = new_numbers()
    for record in _vaf_records(["10"] * 29 + ["90"]):
        record_hits(record, numbers=numbers)
    too_few = new_numbers()
    for record in _vaf_records(["10"] * 28 + ["90"]):
        record_hits(record, numbers=too_few)

    assert _found(outlier_hits(numbers)) == {("E", "ngs_variant", 1, "var_vaf", "90")}
    assert outlier_hits(too_few) == []
