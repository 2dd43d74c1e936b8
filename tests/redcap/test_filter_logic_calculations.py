"""REDCap logic's not(), datediff() and arithmetic, read and judged on one row without a database
(what custom data-quality rules are written in); each expected value is worked out in the comment."""
import pytest

from registry.records.filter_logic import DATE, NUMBER, TEXT, FilterLogicError, parse_filter_logic

KINDS = {"sex": NUMBER, "lm_mm": NUMBER, "line_no": NUMBER, "ta_date": DATE, "death_date": DATE, "mrn": TEXT}


def holds(logic: str, **row: str) -> bool:
    return parse_filter_logic(logic, KINDS).matches(lambda column: row.get(column, ""))


def test_multiplication_binds_tighter_than_subtraction():
    # 600 - 100 * 5 = 100; left to right it would be 2500.
    assert holds("[lm_mm] - 100 * 5 = 100", lm_mm="600")
    assert not holds("[lm_mm] - 100 * 5 = 2500", lm_mm="600")


def test_parentheses_change_the_order_of_a_calculation():
    # (600 - 100) * 5 = 2500
    assert holds("([lm_mm] - 100) * 5 = 2500", lm_mm="600")


def test_division_and_a_unary_minus():
    # 30 / 4 = 7.5; -(30) + 40 = 10
    assert holds("[lm_mm] / 4 = 7.5", lm_mm="30")
    assert holds("-[lm_mm] + 40 = 10", lm_mm="30")
    assert holds("[lm_mm] > -1", lm_mm="0")  # a negative literal still reads as before


def test_a_calculation_with_a_blank_value_is_blank():
    assert holds('[lm_mm] + 1 = ""')
    assert not holds("[lm_mm] + 1 > 0")


def test_a_division_by_zero_is_blank():
    assert holds('[lm_mm] / [line_no] = ""', lm_mm="5", line_no="0")


def test_datediff_counts_days_months_and_years_the_redcap_way():
    # 2022-01-01 → 2022-03-01: 59 days; 59 / 30.44 = 1.938 months; 59 / 365.2425 = 0.1615 years.
    row = {"death_date": "2022-01-01", "ta_date": "2022-03-01"}
    assert holds('datediff([death_date], [ta_date], "d") = 59', **row)
    assert holds('datediff([death_date], [ta_date], "M") > 1.93', **row)
    assert holds('datediff([death_date], [ta_date], "M") < 1.94', **row)
    assert holds('datediff([death_date], [ta_date], "y", "ymd") > 0.161', **row)
    assert holds('datediff([death_date], [ta_date], "y", "ymd") < 0.162', **row)


def test_datediff_is_absolute_unless_asked_for_a_signed_value():
    # ta_date - death_date = 2021-12-01 - 2022-01-01 = -31 days
    row = {"death_date": "2022-01-01", "ta_date": "2021-12-01"}
    assert holds('datediff([death_date], [ta_date], "d") = 31', **row)
    assert holds('datediff([death_date], [ta_date], "d", true) = -31', **row)
    assert holds('datediff([death_date], [ta_date], "d", "ymd", true) < 0', **row)


def test_datediff_with_a_blank_date_is_blank():
    assert not holds('datediff([death_date], [ta_date], "d") >= 0', ta_date="2022-01-01")
    assert holds('datediff([death_date], "2022-01-31", "d") = 30', death_date="2022-01-01")


def test_not_negates_the_logic_inside():
    assert holds('not([sex] = "1")', sex="2")
    assert not holds('not([sex] = "1")', sex="1")
    assert holds('not([sex] = "1") and not([sex] = "3")', sex="2")
    assert holds('not([sex] = "1" or [lm_mm] > 10) or [mrn] = "X"', sex="1", mrn="X")


def test_not_binds_to_its_parentheses_only():
    # not(sex = 1) or lm_mm > 10: with sex 1 and lm_mm 20, false or true.
    assert holds('NOT([sex] = "1") or [lm_mm] > 10', sex="1", lm_mm="20")


@pytest.mark.parametrize(("logic", "reason"), [
    ("[ta_date] + 1 > 2", "calculates with [ta_date], which is not a number (use datediff for dates)"),
    ("[mrn] * 2 > 2", "calculates with [mrn], which is not a number"),
    ('datediff([lm_mm], [ta_date], "d") > 1', "datediff takes two dates; [lm_mm] is not a date"),
    ('datediff([death_date], [ta_date], "w") > 1', 'unit "d" (days), "M" (months) or "y" (years)'),
    ('datediff([death_date], [ta_date]) > 1', "where a ',' between datediff's arguments should be"),
    ("[ta_date] > [lm_mm] + 1", "compares [ta_date] with a calculation"),
    ("[lm_mm] + 1", "a calculation where a comparison"),
    ('not([sex] = "1"', "ends too early"),
    ("not([lm_mm] + 1) = 2", "a calculation where a comparison"),
    ('[sex] = "1" and [lm_mm]', "[lm_mm] where a comparison"),
])
def test_calculations_that_cannot_be_read_are_refused_with_their_reason(logic, reason):
    with pytest.raises(FilterLogicError) as refused:
        parse_filter_logic(logic, KINDS)

    assert reason in str(refused.value)
