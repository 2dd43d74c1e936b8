"""How single values are written (derivation rules §8)."""
from datetime import date
from decimal import Decimal

import pytest

from registry.exports.cells import cell


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("12.484600"), "12.4846"),
    (Decimal("16.000000"), "16"),
    (Decimal("100.000000"), "100"),  # Decimal.normalize() would give 1E+2
    (Decimal("0.000000"), "0"),
    (Decimal("-0.000000"), "0"),
    (Decimal("-35.000000"), "-35"),
    (Decimal("0.000100"), "0.0001"),
    (Decimal("45.50"), "45.5"),
])
def test_decimals_are_written_as_stored_without_trailing_zeros(value, text):
    assert cell(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (True, "1"), (False, "0"), (None, ""), ("", ""), (0, "0"), (99, "99"),
    (date(2024, 6, 30), "2024-06-30"), ("NON-CR/NON-PD", "NON-CR/NON-PD"),
])
def test_booleans_codes_dates_and_unknowns(value, text):
    assert cell(value) == text


def test_a_value_of_no_known_kind_is_refused():
    with pytest.raises(TypeError, match="No dataset format for float"):
        cell(1.5)
