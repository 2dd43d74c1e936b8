"""Writing patients as REDCap's flat export (CSV or JSON), in batches of patients.

Row order: records by record_id (sorted in Python, so SQLite and PostgreSQL agree), the record row
first, then the repeating instruments in the dictionary's form order, instances ascending.
"""
import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from django.db.models import Count, Q, QuerySet

from registry.models import Patient

from .dictionary import data_dictionary
from .flat_layout import FlatColumn, column_index, form_columns
from .missing_codes import Coded, coded_checkboxes, missing_column
from .instruments import (
    INSTRUMENTS, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, all_flat_columns, flat_columns,
    format_value, missing_code_columns,
)

BATCH_PATIENTS = 200  # patients read together: one query for them, one per repeating instrument

RECORD_FORMS = ("enrollment", "vital_status")


def flat_rows(patients: QuerySet[Patient], *, forms: Iterable[str] | None = None,
              record_order: Callable[[str], str] | None = None) -> Iterator[list[str]]:
    """Every flat row of the given patients, as lists of cell texts in `all_flat_columns()` order (a
    writer keeps the columns of export_columns()).

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
    checkboxes = _coded_checkbox_positions(tuple(columns))
    if not coded and not checkboxes:
        return list(stored)
    rows = []
    end = 2 + len(columns)
    for values in stored:
        if any(values[code] for _, code in coded):
            values = list(values)
            for position, code in coded:
                if values[code]:
                    values[position] = Coded(values[code])
        if checkboxes:
            values = _checkbox_cells(list(values), checkboxes)
        rows.append(tuple(values[:end]))
    return rows


def _coded_checkbox_positions(columns: tuple[FlatColumn, ...]) -> list[tuple[int, tuple[int, ...], tuple]]:
    """For each checkbox field that takes a code, in a row read (two key values first): the position of
    its companion's value (its first code column reads it), its options' positions, and each code
    column's (position, code)."""
    groups: dict[str, tuple[list, list]] = {}
    for position, column in enumerate(columns, start=2):
        if column.checkbox_missing_attribute is not None:
            options, codes = groups.setdefault(column.checkbox_missing_attribute, ([], []))
            (codes if column.missing_code is not None else options).append(
                (position, column.missing_code) if column.missing_code is not None else position)
    return [(codes[0][0], tuple(options), tuple(codes)) for options, codes in groups.values() if codes]


def _checkbox_cells(values: list, groups) -> list:
    """A coded checkbox's options blank and its code columns 1 (its code) or 0; an uncoded one's code
    columns blank (each code column read the companion's code)."""
    for companion, options, codes in groups:
        code = values[companion]
        if code:
            for position in options:
                values[position] = None
            for position, own in codes:
                values[position] = own == code
        else:
            for position, _ in codes:
                values[position] = None
    return values


def coded_checkbox_fields(patients: QuerySet[Patient], *, fields=None) -> frozenset[str]:
    """The checkbox fields (of `fields`, default all) in which a record of `patients` holds a
    missing-data code: one query per model that has such fields (the patient: alk_method; the tumor
    assessment: ta_scope and ta_new_sites)."""
    used = set()
    for model in dict.fromkeys(instrument.model for instrument in INSTRUMENTS.values()):
        wanted = [name for name in coded_checkboxes(model) if fields is None or name in fields]
        if not wanted:
            continue
        rows = patients if model is Patient else model.objects.filter(patient__in=patients.values("id"))
        counts = rows.aggregate(**{name: Count("pk", filter=~Q(**{missing_column(name): ""})) for name in wanted})
        used.update(name for name, count in counts.items() if count)
    return frozenset(used)


def export_columns(coded_fields: frozenset[str] | set[str] = frozenset()) -> tuple[str, ...]:
    """The header of a flat export: `flat_columns()`, with the code columns of each checkbox field in
    `coded_fields` after its options (REDCap writes them only when a record holds such a code)."""
    if not coded_fields:
        return flat_columns()
    owners = missing_code_columns()
    return tuple(name for name in all_flat_columns() if name not in owners or owners[name][0] in coded_fields)


def projected(rows: Iterator[list[str]], columns: tuple[str, ...]) -> Iterator[list[str]]:
    """flat_rows() rows cut to `columns` (a subset of all_flat_columns(), in its order)."""
    positions = [column_index()[name] for name in columns]
    for row in rows:
        yield [row[position] for position in positions]


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
    row = [""] * len(all_flat_columns())
    row[0] = record_id
    if instance is not None:
        positions = column_index()
        row[positions[REPEAT_INSTRUMENT]] = form
        row[positions[REPEAT_INSTANCE]] = str(instance)
    for position, value in zip(_positions(forms), values, strict=True):
        row[position] = format_value(value)
    return row


def write_csv(output, rows: Iterator[list[str]], columns: tuple[str, ...] | None = None) -> int:
    """`rows` in `columns` (default flat_columns()) order, header first."""
    # LF line ends and minimal quoting, like REDCap's own export (and the example file).
    writer = csv.writer(output, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns or flat_columns())
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_json(output, rows: Iterator[list[str]], columns: tuple[str, ...] | None = None) -> int:
    """A JSON list of objects whose values are all strings, as REDCap's API exports records."""
    columns = columns or flat_columns()
    output.write("[")
    count = 0
    for row in rows:
        output.write(",\n" if count else "\n")
        output.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        count += 1
    output.write("\n]\n")
    return count


WRITERS = {"csv": write_csv, "json": write_json}
