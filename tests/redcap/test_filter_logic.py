"""filterLogic read and judged on one row, without a database: REDCap's comparisons, and/or, parentheses."""
import pytest

from registry.records.filter_logic import DATE, NUMBER, TEXT, FilterLogicError, parse_filter_logic

KINDS = {
    "record_id": TEXT, "sex": NUMBER, "line_drug": NUMBER, "adv_dx_date": DATE, "lm_mm": NUMBER, "mrn": TEXT,
    "alk_method___2": NUMBER,
}


def holds(logic: str, **row: str) -> bool:
    return parse_filter_logic(logic, KINDS).matches(lambda column: row.get(column, ""))


def test_an_equality_with_a_quoted_code_holds_for_that_code_only():
    assert holds('[sex] = "2"', sex="2")
    assert not holds('[sex] = "2"', sex="1")
    assert holds("[sex] = 2", sex="2")


def test_numbers_compare_as_numbers_not_as_text():
    assert holds("[lm_mm] > 9", lm_mm="10")
    assert not holds("[lm_mm] > 9", lm_mm="8.5")
    assert holds("[lm_mm] >= 10.0", lm_mm="10")
    assert holds("[lm_mm] <> 10", lm_mm="12")


def test_dates_compare_as_dates():
    assert holds('[adv_dx_date] >= "2020-01-01"', adv_dx_date="2020-03-02")
    assert not holds('[adv_dx_date] < "2020-01-01"', adv_dx_date="2020-03-02")


def test_a_blank_value_is_tested_with_an_empty_string_and_fails_every_other_comparison():
    assert holds('[adv_dx_date] = ""')
    assert not holds('[adv_dx_date] = ""', adv_dx_date="2020-03-02")
    assert holds('[adv_dx_date] <> ""', adv_dx_date="2020-03-02")
    assert not holds('[adv_dx_date] < "2030-01-01"')
    assert not holds("[lm_mm] > 0")
    assert holds("[lm_mm] != 5")  # blank is not 5


def test_and_binds_tighter_than_or_and_parentheses_change_it():
    row = {"sex": "1", "line_drug": "3", "mrn": "A"}
    assert holds('[sex] = "2" and [line_drug] = "2" or [mrn] = "A"', **row)
    assert not holds('[sex] = "2" and ([line_drug] = "2" or [mrn] = "A")', **row)
    assert holds('[sex] = "1" AND ([line_drug] = "2" OR [line_drug] = "3")', **row)


def test_a_checkbox_option_is_written_either_way():
    assert holds('[alk_method(2)] = "1"', alk_method___2="1")
    assert holds('[alk_method___2] = "1"', alk_method___2="1")
    assert not holds('[alk_method(2)] = "1"', alk_method___2="0")


def test_a_field_may_be_compared_with_another_field():
    assert holds("[lm_mm] > [sex]", lm_mm="3", sex="2")


def test_the_logic_reports_the_columns_it_reads():
    logic = parse_filter_logic('[sex] = "2" or [alk_method(2)] = "1"', KINDS)

    assert logic.columns == {"sex", "alk_method___2"}


@pytest.mark.parametrize(("logic", "reason"), [
    ('[colour] = "red"', "[colour], which is not a field of this project"),
    ('[sex] = "2" and', "ends too early"),
    ('([sex] = "2"', "'(' that is not closed"),
    ('[sex] "2"', "where a comparison"),
    ('[adv_dx_date] > "yesterday"', "which is not a date (YYYY-MM-DD)"),
    ('[lm_mm] > "ten"', "which is not a number"),
    ('"1" = "1"', "without a [field]"),
    ("__import__('os').system('true')", "cannot be read at character 17"),
    ("sex = 2", "where a [field], a quoted value or a number should be"),
    ('[sex] = "2" ; drop', "cannot be read at character 13"),
    ("", "blank"),
])
def test_logic_that_cannot_be_read_is_refused_with_its_reason(logic, reason):
    with pytest.raises(FilterLogicError) as refused:
        parse_filter_logic(logic, KINDS)

    assert reason in str(refused.value)
