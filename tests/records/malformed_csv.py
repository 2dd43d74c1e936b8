"""Malformed CSV files shared by the tests of every CSV door: each would change patients P-1 and P-2
(stored alive, vital 1) to dead; each has one fault, reported with its physical line.

`alive_patients` (tests/conftest.py) stores P-1 and P-2; `vitals()` reads what a refused import must
leave as it was."""
from registry.models import Patient

HEADER = "record_id,redcap_repeat_instrument,redcap_repeat_instance,vital,death_date\n"

MALFORMED_CSV = {
    # Python's csv module, not strict, reads P-2's row and P-3's into one cell: P-3 is lost.
    "a quote never closed": (
        HEADER + 'P-1,,,2,2024-01-01\nP-2,,,"2,2024-01-01\nP-3,,,2,2024-01-01\n',
        3, "has a quote that is never closed: the value it opens on line 3 would take in every line after it",
    ),
    "a quote inside an unquoted value": (
        HEADER + 'P-1,,,2,2024-01-01\nP-2,,,2,2024-"01-01\n',
        3, 'has a quote inside a value that is not quoted, on line 3 (a value with a quote is written in '
           'quotes, its quotes doubled: "ab""c")',
    ),
    "text after a closing quote": (
        HEADER + 'P-1,,,"2"x,2024-01-01\nP-2,,,2,2024-01-01\n',
        2, "has text after the closing quote of a quoted value, on line 2",
    ),
    "a row with fewer cells than the header": (
        HEADER + "P-1,,,2\nP-2,,,2,2024-01-01\n",
        2, "has 4 values, but the header names 5 columns",
    ),
    "a row with more cells than the header": (
        HEADER + "P-1,,,2,2024-01-01\nP-2,,,2,2024-01-01,x\n",
        3, "has 6 values, but the header names 5 columns",
    ),
}


def vitals() -> list[tuple]:
    return list(Patient.objects.order_by("record_id").values_list("record_id", "vital", "death_date"))
