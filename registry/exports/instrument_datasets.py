"""Raw records as datasets: one per instrument (form) of the data dictionary, named by the form.

Columns: `record_id`, `redcap_repeat_instance` (repeating forms), every field of the form in
dictionary order as REDCap exports it (a checkbox as one `field___code` 0/1 column per choice, each
missing while the field holds a missing-data code; raw codes, not labels), the form's `<form>_complete`
status, then `site`. Rows: one per patient (`enrollment`, `vital_status`) or per instance, by record_id
then instance number; one query per batch of patients, like the analysis datasets
(registry/exports/datasets.py).

Where a value lives on the model (a checkbox option's boolean, the assessment a measurement names
by date ...) is registry/records/flat_layout.py's, shared with the REDCap flat export.
"""
from __future__ import annotations

from registry.models.choices import RecordStatus
from registry.records.flat_layout import FlatColumn, form_columns
from registry.records.instruments import INSTRUMENTS, REPEAT_INSTANCE

from .analysis_columns import SITE_COLUMN
from .columns import Column, Kind, checkbox_option_column, dictionary_column
from .datasets import RECORD_ID, SITE, Dataset, RecordRows


def _lookup(column: FlatColumn) -> str:
    if column.reference is not None:
        return f"{column.reference.attribute}__{column.reference.target_field}"
    return column.attribute


def _described(column: FlatColumn, form: str) -> Column:
    if column.field is None:
        return Column(
            column.name, f"REDCap record status of the form {form}", Kind.CODE,
            codes=tuple((str(value), label) for value, label in RecordStatus.choices), source="REDCap",
        )
    if column.checkbox_code is not None:
        return checkbox_option_column(column.field.name, column.checkbox_code)
    return dictionary_column(column.field.name)


def _instrument_dataset(form: str) -> tuple[Dataset, tuple[Column, ...]]:
    instrument = INSTRUMENTS[form]
    flat = form_columns(form)
    sources = [("record_id", RECORD_ID)]
    described = [dictionary_column("record_id")]
    if instrument.repeating:
        sources.append((REPEAT_INSTANCE, "redcap_repeat_instance"))
        described.append(Column(
            REPEAT_INSTANCE, f"REDCap repeat instance number of this {form} instance", Kind.INTEGER,
            source="REDCap",
        ))
    for column in flat:
        if column.missing_code is not None:
            continue  # a checkbox's code is written in its options' cells (missing: SPSS user-missing)
        sources.append((column.name, _lookup(column)))
        described.append(_described(column, form))
    sources.append(("site", SITE))
    described.append(SITE_COLUMN)
    rows = RecordRows(
        model=instrument.model,
        sources=tuple(sources),
        patient_lookup="patient_id" if instrument.repeating else "id",
        order_by=("redcap_repeat_instance",) if instrument.repeating else (),
    )
    return Dataset(form, rows.columns, rows), tuple(described)


_BUILT = {form: _instrument_dataset(form) for form in INSTRUMENTS}
INSTRUMENT_DATASETS: dict[str, Dataset] = {form: dataset for form, (dataset, _) in _BUILT.items()}
INSTRUMENT_COLUMNS: dict[str, tuple[Column, ...]] = {form: columns for form, (_, columns) in _BUILT.items()}
