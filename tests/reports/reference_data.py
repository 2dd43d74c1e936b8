"""The AML maintenance data (fixtures/reference/aml.csv, sources in its README) as survival groups."""
from __future__ import annotations

import csv
from pathlib import Path

from registry.reports.statistics import SurvivalGroup

AML_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "reference" / "aml.csv"


def aml_group(arm: str) -> SurvivalGroup:
    """"Maintained" or "Nonmaintained"; durations in weeks, status 1 = relapse."""
    with AML_CSV.open(newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["x"] == arm]
    if not rows:
        raise LookupError(f"no {arm!r} rows in {AML_CSV}")
    return SurvivalGroup(label=arm, durations=tuple(float(row["time"]) for row in rows),
                         events=tuple(row["status"] == "1" for row in rows))


MAINTAINED = aml_group("Maintained")
NONMAINTAINED = aml_group("Nonmaintained")
