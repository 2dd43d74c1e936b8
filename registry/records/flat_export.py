"""Writing patients as REDCap's flat export (CSV or JSON), in batches of patients.

Row order: records by record_id (sorted in Python, so SQLite and PostgreSQL agree), the record row
first, then the repeating instruments in the dictionary's form order, instances ascending.
"""
import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from registry.models import Patient

from .dictionary import data_dictionary
from .flat_layout import column_index, form_columns
from .instruments import INSTRUMENTS, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, flat_columns

BATCH_PATIENTS = 200  # patients read together: one query for them, one per repeating instrument

RECORD_FORMS = ("enrollment", "vital_status")


def flat_rows(patients: QuerySet[Patient], *, forms: Iterable[str] | None = None) -> Iterator[list[str]]:
    """Every flat row of the given patients, as lists of cell texts in `flat_columns()` order.

    `forms` (None: all) limits the repeating instruments read: the rows of the others are left out
    and their tables are not queried. The record row is always there.
    """
    # Only (record_id, id) pairs are held for the whole export: rows are built a batch at a time.
    order = sorted(patients.order_by().values_list("record_id", "id"))
    wanted = None if forms is None else set(forms)
    repeating = [
        form for form in data_dictionary().forms
        if form in REPEATING_INSTRUMENTS and (wanted is None or form in wanted)
    ]
    for start in range(0, len(order), BATCH_PATIENTS):
        ids = [patient_id for _, patient_id in order[start:start + BATCH_PATIENTS]]
        instances = _instances_by_patient(repeating, ids)
        for patient in sorted(Patient.objects.filter(id__in=ids), key=lambda patient: patient.record_id):
            yield _record_row(patient)
            for form in repeating:
                for instance in instances[form].get(patient.id, ()):
                    yield _instance_row(patient.record_id, form, instance)
        # Let this batch go before the next is read, or two batches are held at the peak.
        del instances


def _instances_by_patient(forms: list[str], patient_ids: list[int]) -> dict[str, dict[int, list]]:
    """One query per repeating instrument, with the assessment, lesion or biopsy each one names."""
    found: dict[str, dict[int, list]] = {}
    for form in forms:
        instrument = INSTRUMENTS[form]
        related = [reference.attribute for reference in instrument.references.values()]
        by_patient: dict[int, list] = defaultdict(list)
        for instance in (
            instrument.model.objects.filter(patient_id__in=patient_ids)
            .select_related(*related)
            .order_by("patient_id", "redcap_repeat_instance")
        ):
            by_patient[instance.patient_id].append(instance)
        found[form] = by_patient
    return found


def _blank_row(record_id: str) -> list[str]:
    row = [""] * len(flat_columns())
    row[0] = record_id
    return row


def _record_row(patient: Patient) -> list[str]:
    row = _blank_row(patient.record_id)
    positions = column_index()
    for form in RECORD_FORMS:
        for column in form_columns(form):
            row[positions[column.name]] = column.text_of(patient)
    return row


def _instance_row(record_id: str, form: str, instance) -> list[str]:
    row = _blank_row(record_id)
    positions = column_index()
    row[positions[REPEAT_INSTRUMENT]] = form
    row[positions[REPEAT_INSTANCE]] = str(instance.redcap_repeat_instance)
    for column in form_columns(form):
        row[positions[column.name]] = column.text_of(instance)
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
