"""The survival input of the study report as a statistician rebuilds it from the exported analysis
datasets, for the R parity fixture (fixtures/reference/README.md, "R parity of the study report").

The groups are selected here as a statistician selects them, from the columns of the exported
`lines` and `patients` datasets alone (rules §8 v2: first_subsequent_line on `lines`,
alk_mut_status_at_index and compound_mutation_at_index on `patients`), not with the report's own
selection (registry/reports/tables.py): the parity test then checks that the report picked the same
patients as the exported columns say, as well as that its statistics equal R's on them.

    rows = survival_input_rows(lines=..., patients=...)

Each dataset is given as the dicts csv.DictReader reads from its CSV export (every value a string,
blank for an empty cell).
"""
from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from registry.exports.datasets import export_patients
from registry.exports.provenance import derivation_provenance
from registry.selectors.record_export import export_scope
from registry.services.datasets import dataset_export

INPUT_COLUMNS = ("comparison", "endpoint", "group", "label", "record_id", "line_no", "months", "status")

TKI = "1"
CHEMOTHERAPY_TYPES = ("2", "3")
PLATINUM_DOUBLETS = ("20", "21", "23")  # data dictionary line_drug: pemetrexed/gemcitabine + platinum

Row = dict[str, str]


class PatientLines(NamedTuple):
    patient: Row
    lines: list[Row]


def _is_tki(line: Row) -> bool:
    return line["line_type"] == TKI


def _is_third_generation(line: Row) -> bool:
    return line["line_type"] == TKI and line["tki_generation"] == "3"


def _is_platinum_chemotherapy(line: Row) -> bool:
    return line["line_type"] in CHEMOTHERAPY_TYPES and line["line_drug"] in PLATINUM_DOUBLETS


def _mutation(record: PatientLines) -> bool:
    return record.patient["alk_mut_status_at_index"] == "mutation"


def _no_mutation(record: PatientLines) -> bool:
    return record.patient["alk_mut_status_at_index"] == "no_mutation"


def _not_known_mutated(record: PatientLines) -> bool:
    return record.patient["alk_mut_status_at_index"] != "mutation"


def _mutation_not_compound(record: PatientLines) -> bool:
    return _mutation(record) and record.patient["compound_mutation_at_index"] == "0"


# Figs. 5 and 6 of the reference study, in the report's order: (comparison, endpoint, two groups of
# (label, which patients, which first subsequent line)). The first group is the Cox model's
# covariate 1, as in the report.
Group = tuple[str, Callable[[PatientLines], bool], Callable[[Row], bool]]
COMPARISONS: tuple[tuple[str, str, Group, Group], ...] = (
    ("fig5a", "PFS", ("ALK resistance mutation", _mutation, _is_tki), ("No ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig5b", "OS", ("ALK resistance mutation", _mutation, _is_tki), ("No ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig5c", "PFS", ("ALK resistance mutation (not compound)", _mutation_not_compound, _is_tki),
     ("No ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig5d", "OS", ("ALK resistance mutation (not compound)", _mutation_not_compound, _is_tki),
     ("No ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig5e", "PFS", ("ALK resistance mutation", _mutation, _is_third_generation),
     ("No ALK resistance mutation", _no_mutation, _is_third_generation)),
    ("fig5f", "OS", ("ALK resistance mutation", _mutation, _is_third_generation),
     ("No ALK resistance mutation", _no_mutation, _is_third_generation)),
    ("fig6a", "PFS", ("Platinum chemotherapy", _not_known_mutated, _is_platinum_chemotherapy),
     ("ALK-TKI, no ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig6b", "OS", ("Platinum chemotherapy", _not_known_mutated, _is_platinum_chemotherapy),
     ("ALK-TKI, no ALK resistance mutation", _no_mutation, _is_tki)),
    ("fig6c", "PFS", ("Platinum chemotherapy", _not_known_mutated, _is_platinum_chemotherapy),
     ("Third-generation ALK-TKI, no ALK resistance mutation", _no_mutation, _is_third_generation)),
    ("fig6d", "OS", ("Platinum chemotherapy", _not_known_mutated, _is_platinum_chemotherapy),
     ("Third-generation ALK-TKI, no ALK resistance mutation", _no_mutation, _is_third_generation)),
)


def first_subsequent_line(record: PatientLines) -> Row | None:
    """The line the exported `lines` flag as the patient's first subsequent line (§8 v2)."""
    return next((line for line in record.lines if line["first_subsequent_line"] == "1"), None)


def survival_input_rows(*, lines: Iterable[Row], patients: Iterable[Row]) -> list[dict[str, str]]:
    """One row per patient in each group of each comparison (INPUT_COLUMNS), in the order of
    COMPARISONS, then group, then the export's patient order. Patients in no cohort are left out, as
    are lines whose endpoint is blank (not derived), as the report leaves them out."""
    lines_by_patient: dict[str, list[Row]] = defaultdict(list)
    for line in lines:
        lines_by_patient[line["record_id"]].append(line)
    records = [PatientLines(patient, lines_by_patient[patient["record_id"]])
               for patient in patients if patient["cohort"] in ("1", "2")]

    rows = []
    for comparison, endpoint, *groups in COMPARISONS:
        months_column, event_column = ("pfs_months", "pfs_event") if endpoint == "PFS" else ("os_months", "os_event")
        for number, (label, patient_test, line_test) in enumerate(groups, start=1):
            for record in records:
                line = first_subsequent_line(record) if patient_test(record) else None
                if line is None or not line_test(line) or "" in (line[months_column], line[event_column]):
                    continue
                rows.append({
                    "comparison": comparison, "endpoint": endpoint, "group": str(number), "label": label,
                    "record_id": record.patient["record_id"], "line_no": line["line_no"],
                    "months": line[months_column], "status": line[event_column],
                })
    return rows


def write_survival_input(rows: list[dict[str, str]], output: Path) -> None:
    with output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=INPUT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def exported_survival_input(directory: Path) -> list[dict[str, str]]:
    """Exports `lines` and `patients` as CSV into `directory` through the export service
    (every site, as the system: what the report reads) and builds the survival input from those files.

    Raises ValueError, before exporting anything, unless every patient's derivation is current and
    all were made with one set of settings (the export's provenance is `consistent`): the report's
    numbers would not be reproducible otherwise.
    """
    provenance = derivation_provenance([patient.id for patient in export_patients(export_scope(user=None))])
    if not provenance["consistent"]:
        raise ValueError(
            "The derivations are not consistent, derive them again first: "
            f"{provenance['patients']} patients, {provenance['not_derived_patients']} not derived, "
            f"{provenance['stale_patients']} stale, {len(provenance['derived_with'])} sets of settings.")
    files = {}
    for name in ("lines", "patients"):
        files[name] = directory / f"{name}.csv"
        dataset_export(name=name, output=files[name], file_format="csv")
    return survival_input_rows(lines=read_csv(files["lines"]), patients=read_csv(files["patients"]))
