"""Writing patients as REDCap's flat export (CSV or JSON), in batches of patients.

Row order: records by record_id (sorted in Python, so SQLite and PostgreSQL agree), the record row
first, then the repeating instruments in the dictionary's form order, instances ascending.
"""
import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from django.db.models import QuerySet

from registry.models import Patient

from .dictionary import data_dictionary
from .flat_layout import FlatColumn, column_index, form_columns
from .missing_codes import Coded
from .instruments import (
    INSTRUMENTS, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, flat_columns, format_value,
)

BATCH_PATIENTS = 200  # patients read together: one query for them, one per repeating instrument

RECORD_FORMS = ("enrollment", "vital_status")


def flat_rows(patients: QuerySet[Patient], *, forms: Iterable[str] | None = None,
              record_order: Callable[[str], str] | None = None) -> Iterator[list[str]]:
    """Every flat row of the given patients, as lists of cell texts in `flat_columns()` order.

    `forms` (None: all) limits the repeating instruments read: the rows of the others are left out
    and their tables are not queried. The record row is always there. Records come in record ID
    order, or in the order of `record_order(record_id)` (a de-identified export: its pseudonyms).
    """
    def key(record_id: str):
        return record_id if record_order is None else (record_order(record_id), record_id)

    # Only (record_id, id) pairs are held for the whole export: rows are built a batch at a time.
    order = sorted(patients.order_by().values_list("record_id", "id"), key=lambda pair: key(pair[0]))
    wanted = None if forms is None else set(forms)
    repeating = [
        form for form in data_dictionary().forms
        if form in REPEATING_INSTRUMENTS and (wanted is None or form in wanted)
    ]
    for start in range(0, len(order), BATCH_PATIENTS):
        ids = [patient_id for _, patient_id in order[start:start + BATCH_PATIENTS]]
        instances = _instances_by_patient(repeating, ids)
        for patient_id, record_id, *values in sorted(_stored_values(Patient, RECORD_FORMS, id__in=ids),
                                                     key=lambda stored: key(stored[1])):
            yield _row(record_id, RECORD_FORMS, values)
            for form in repeating:
                for instance, *values in instances[form].get(patient_id, ()):
                    yield _row(record_id, (form,), values, form=form, instance=instance)
        # Let this batch go before the next is read, or two batches are held at the peak.
        del instances


# Values, not model instances, are read: the same cells (FlatColumn.text_of would write the same
# text from an instance's attributes), at a fraction of the time and memory of building a model
# object for every instance and every instance it names.


def _lookup(column: FlatColumn) -> str:
    """The column's value as a lookup: its attribute, or the key of the instance it names."""
    if column.reference is None:
        return column.attribute
    return f"{column.attribute}__{column.reference.target_field}"


def _stored_values(model, forms: tuple[str, ...], **condition) -> list[tuple]:
    """One query: (patient id, record ID or instance number, then each column of `forms`); a cell
    holding a missing-data code is Coded(code), which format_value writes as the code."""
    columns = [column for form in forms for column in form_columns(form)]
    lookups = [_lookup(column) for column in columns]
    # The codes' companion columns are read after the columns; `coded` pairs, in the row read (two key
    # values first), the position of a codable column's value with the position of its code.
    codable = [position for position, column in enumerate(columns) if column.missing_attribute is not None]
    lookups += [columns[position].missing_attribute for position in codable]
    coded = [(2 + position, 2 + len(columns) + number) for number, position in enumerate(codable)]
    if model is Patient:
        stored = model.objects.filter(**condition).values_list("id", "record_id", *lookups)
    else:
        stored = (
            model.objects.filter(**condition).order_by("patient_id", "redcap_repeat_instance")
            .values_list("patient_id", "redcap_repeat_instance", *lookups)
        )
    if not coded:
        return list(stored)
    rows = []
    end = 2 + len(columns)
    for values in stored:
        if any(values[code] for _, code in coded):
            values = list(values)
            for position, code in coded:
                if values[code]:
                    values[position] = Coded(values[code])
        rows.append(tuple(values[:end]))
    return rows


def _instances_by_patient(forms: list[str], patient_ids: list[int]) -> dict[str, dict[int, list]]:
    """One query per repeating instrument (joined to the assessment, lesion or biopsy it names):
    each patient's instances as (instance number, then the form's column values)."""
    found: dict[str, dict[int, list]] = {}
    for form in forms:
        by_patient: dict[int, list] = defaultdict(list)
        for patient_id, *values in _stored_values(INSTRUMENTS[form].model, (form,), patient_id__in=patient_ids):
            by_patient[patient_id].append(values)
        found[form] = by_patient
    return found


@cache
def _positions(forms: tuple[str, ...]) -> tuple[int, ...]:
    positions = column_index()
    return tuple(positions[column.name] for form in forms for column in form_columns(form))


def _row(record_id: str, forms: tuple[str, ...], values, *, form: str = "", instance: int | None = None) -> list[str]:
    row = [""] * len(flat_columns())
    row[0] = record_id
    if instance is not None:
        positions = column_index()
        row[positions[REPEAT_INSTRUMENT]] = form
        row[positions[REPEAT_INSTANCE]] = str(instance)
    for position, value in zip(_positions(forms), values, strict=True):
        row[position] = format_value(value)
    return row


def write_csv(output, rows: Iterator[list[str]]) -> int:
    # LF line ends and minimal quoting, like REDCap's own export (and the example file).
    writer = csv.writer(output, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(flat_columns())
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_json(output, rows: Iterator[list[str]]) -> int:
    """A JSON list of objects whose values are all strings, as REDCap's API exports records."""
    columns = flat_columns()
    output.write("[")
    count = 0
    for row in rows:
        output.write(",\n" if count else "\n")
        output.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        count += 1
    output.write("\n]\n")
    return count


WRITERS = {"csv": write_csv, "json": write_json}
