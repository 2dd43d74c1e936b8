"""content=record export: REDCap's flat and eav record exports, streamed row by row.

The rows are the flat format's own (registry/records/flat_export.py, `flat_rows`: a batch of
patients read with one query per instrument, then written and let go), so the server holds one
batch at a time whatever the size of the registry; the response is a StreamingHttpResponse that
writes about 64 KB at a time as the rows are made.

Parameters (REDCap API help, "Export Records"; PyCap's `export_records` sends them):
- `format` json, csv or xml (REDCap's default: xml); `type` flat (default) or eav;
- `records`, `fields`, `forms`: arrays. Fields and forms are joined (a column is exported when its
  field or its form is asked for; a checkbox field brings every choice's column; `<form>_complete`
  is a field). record_id, redcap_repeat_instrument and redcap_repeat_instance always come first.
  Each record's record row is always exported; an instance row only when its instrument has an
  exported column. Records that do not exist or that the token may not see are left out, as REDCap
  leaves out unknown records; unknown fields or forms are a 400 error.
- `rawOrLabel` raw or label (coded values as their labels; checkboxes "Checked"/"Unchecked", or with
  `exportCheckboxLabel=true` the choice's label or blank; form status Incomplete/Unverified/Complete;
  redcap_repeat_instrument as the instrument's label); `rawOrLabelHeaders` raw or label (CSV flat only).
- `exportDataAccessGroups=true`: redcap_data_access_group (the site code) after the three key
  columns. REDCap ignores it for users in a data access group; here everyone may ask for it, since
  it only names the sites of records the token already sees.
- `dateRangeBegin`/`dateRangeEnd`: records created or changed from/before these times (audit trail).
- `filterLogic`: see filter_logic.py (records whose logic holds on at least one row).
- `csvDelimiter` for CSV: comma (default), tab, semicolon, pipe or caret;
- events, eventName, exportSurveyFields, decimalCharacter, ... are ignored (a classic project
  without surveys; numbers are written with a dot).

De-identified exports (REDCap's "De-Identified" export right): a user who may not export identified
data (registry/selectors/export_access.py: investigators and viewers without the grant) gets the
registry's de-identification (registry/exports/deidentify.py, the same key as its de-identified
datasets, so the files join): identifier fields ("Identifier? = y": mrn, birth_date) are left out
even when asked for, record_id is the patient's pseudonym, every date of a patient is shifted back by
its 0-364 days, and records come in pseudonym order. `records` still names the registry's record IDs
(what the user sees in the admin). A filterLogic naming an identifier or a date field is refused: its
answer would tell the real value (a birth date, or a date and thus the patient's offset). Unlike
REDCap, free-text fields are kept and dates are shifted rather than removed.

An identified export (any user who may export identified data) is logged before it streams, with
the number of records selected (registry/services/identified_exports.py); a de-identified one is not.

eav (one value per row; REDCap's "record, field_name, value" and, with repeating instruments, the
instance's instrument and number): only non-blank values; a checkbox is one row per ticked choice
under its own field name, its value the choice's code (raw) or label.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import groupby

from django.db.models import Count, QuerySet

from registry.exports.deidentify import DeidentificationKey
from registry.models import ExportDoor, Patient
from registry.records.flat_export import coded_checkbox_fields, flat_rows
from registry.records.missing_codes import is_missing_code
from registry.records.flat_layout import column_index
from registry.records.instruments import (
    RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, all_flat_columns, missing_code_columns,
)
from registry.selectors.record_export import exportable_patients, site_codes_by_record
from registry.services.identified_exports import identified_export_log

from . import project
from registry.records.filter_logic import FilterLogic, FilterLogicError, parse_filter_logic
from .parameters import BAD_REQUEST, ApiError, Parameters
from .project import ACCESS_GROUP, RECORD_FORMS, UnknownNames
from .responses import table_response

KEY_COLUMNS = (RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE)
EAV_COLUMNS = ("record", REPEAT_INSTRUMENT, REPEAT_INSTANCE, "field_name", "value")


@dataclass(frozen=True)
class RecordExport:
    record_type: str  # flat or eav
    file_format: str
    records: tuple[str, ...] | None
    data_columns: tuple[str, ...]  # exported columns after the key columns
    forms: frozenset[str]  # repeating instruments whose rows are exported
    labels: bool
    label_headers: bool
    checkbox_labels: bool
    access_groups: bool
    logic: FilterLogic | None
    changed_from: object
    changed_until: object
    delimiter: str = ","
    deidentified: DeidentificationKey | None = None  # the key of a de-identified export

    @property
    def forms_read(self) -> frozenset[str]:
        """The repeating instruments to read: those exported and those the filter looks at."""
        looked_at = set() if self.logic is None else {project.form_of_column(name) for name in self.logic.columns}
        return self.forms | {form for form in looked_at if form in REPEATING_INSTRUMENTS}

    @property
    def columns(self) -> tuple[str, ...]:
        """The flat export's columns, in order."""
        return KEY_COLUMNS + ((ACCESS_GROUP,) if self.access_groups else ()) + self.data_columns


def parse_export(parameters: Parameters, file_format: str, *,
                 deidentified: DeidentificationKey | None = None) -> RecordExport:
    """The export asked for (de-identified with the key `deidentified`, if given); raises ApiError
    (400) for an unknown field, form or a bad filter."""
    try:
        data_columns = project.selected_columns(fields=parameters.array("fields"), forms=parameters.array("forms"))
    except UnknownNames as error:
        raise ApiError(BAD_REQUEST, str(error)) from None
    if deidentified is not None:
        identifiers = identifier_columns()
        data_columns = [name for name in data_columns if name not in identifiers]
    logic = None
    if parameters.given("filterLogic"):
        try:
            logic = parse_filter_logic(parameters.get("filterLogic"), project.column_kinds())
        except FilterLogicError as error:
            raise ApiError(BAD_REQUEST, str(error)) from None
        if deidentified is not None:
            revealing = sorted(set(logic.columns) & (identifier_columns() | project.date_columns()))
            if revealing:
                raise ApiError(BAD_REQUEST, (
                    "Your export is de-identified: filterLogic may not name identifier or date fields "
                    f"({', '.join(revealing)}), whose real values it would reveal"))
    records = parameters.array("records")
    return RecordExport(
        record_type=parameters.choice("type", ("flat", "eav"), "flat"),
        file_format=file_format,
        records=tuple(records) if records else None,
        data_columns=tuple(data_columns),
        forms=frozenset(project.form_of_column(name) for name in data_columns) & set(REPEATING_INSTRUMENTS),
        labels=parameters.choice("rawOrLabel", ("raw", "label"), "raw") == "label",
        label_headers=parameters.choice("rawOrLabelHeaders", ("raw", "label"), "raw") == "label",
        checkbox_labels=parameters.flag("exportCheckboxLabel"),
        access_groups=parameters.flag("exportDataAccessGroups"),
        logic=logic,
        changed_from=parameters.timestamp("dateRangeBegin"),
        changed_until=parameters.timestamp("dateRangeEnd"),
        delimiter=parameters.csv_delimiter(),
        deidentified=deidentified,
    )


def identifier_columns() -> frozenset[str]:
    """The export columns of the dictionary's identifier fields ("Identifier? = y")."""
    return frozenset(name for name, info in project.columns().items()
                     if info.field is not None and info.field.identifier and name != RECORD_ID)


class _RowDeidentifier:
    """One de-identified export's rows: the record ID replaced by its pseudonym and every date moved
    back by the patient's offset (identifier columns are already left out of the export's columns)."""

    def __init__(self, key: DeidentificationKey):
        self.key = key
        positions = column_index()
        self.date_positions = [positions[name] for name in sorted(project.date_columns())]
        self._record: str | None = None

    def row(self, row: list[str]) -> list[str]:
        if row[0] != self._record:  # rows come record by record: one HMAC pair per record
            self._record = row[0]
            self._pseudonym = self.key.pseudonym(row[0])
            self._offset = timedelta(days=self.key.date_offset_days(row[0]))
        shifted = list(row)
        shifted[0] = self._pseudonym
        for position in self.date_positions:
            if shifted[position] and not is_missing_code(shifted[position]):  # a code stays a code
                shifted[position] = (date.fromisoformat(shifted[position]) - self._offset).isoformat()
        return shifted


def _selected_patients(export: RecordExport, *, user) -> QuerySet[Patient]:
    return exportable_patients(
        user=user, record_ids=list(export.records) if export.records is not None else None,
        changed_from=export.changed_from, changed_until=export.changed_until,
    )


def log_identified_export(export: RecordExport, *, user, parameters: dict) -> None:
    """Logs an identified record export before it streams (one query for the records selected and
    their sites, one INSERT): the count is of the records selected, before filterLogic."""
    per_site = dict(_selected_patients(export, user=user).order_by().values_list("site__code").annotate(Count("id")))
    identified_export_log(
        user=user, door=ExportDoor.REDCAP_API, content=f"records ({export.record_type})",
        file_format=export.file_format, site_codes=per_site, record_count=sum(per_site.values()),
        parameters=parameters,
    )


def export_response(export: RecordExport, *, user):
    """The streamed answer. Queries happen as it is written: the record IDs, then per batch of
    patients one for the patients and one per repeating instrument read (plus, for
    exportDataAccessGroups, one for every record's site code, before the first row)."""
    patients = _selected_patients(export, user=user)
    export = with_codes_in_use(export, patients)
    if export.record_type == "eav":
        return table_response(EAV_COLUMNS, _eav_rows(export, patients), export.file_format, stream=True,
                              delimiter=export.delimiter)
    header = None
    if export.label_headers and export.file_format == "csv":
        header = [project.columns()[name].label for name in export.columns]
    return table_response(export.columns, _flat_rows(export, patients), export.file_format, header=header, stream=True,
                          delimiter=export.delimiter)


def with_codes_in_use(export: RecordExport, patients: QuerySet[Patient]) -> RecordExport:
    """The export without the missing-data code columns of the checkbox fields in which no record
    selected holds a code: REDCap writes them only then. One query per model with a checkbox field chosen
    that takes a code (none when no such field is chosen)."""
    owners = missing_code_columns()
    chosen = {owners[name][0] for name in export.data_columns if name in owners}
    if not chosen:
        return export
    used = coded_checkbox_fields(patients, fields=chosen)
    return replace(export, data_columns=tuple(
        name for name in export.data_columns if name not in owners or owners[name][0] in used))


def _chosen_rows(export: RecordExport, patients: QuerySet[Patient]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The flat rows to export (every column, raw), with the site codes when asked for."""
    positions = column_index()
    instrument_at = positions[REPEAT_INSTRUMENT]
    reads_sites = export.access_groups or (export.logic is not None and ACCESS_GROUP in export.logic.columns)
    site_codes = site_codes_by_record(patients) if reads_sites else {}
    deidentifier = None if export.deidentified is None else _RowDeidentifier(export.deidentified)
    # The filter reads the stored values; what is written is de-identified (sites under pseudonyms).
    written_codes = site_codes if deidentifier is None else {
        export.deidentified.pseudonym(record): code for record, code in site_codes.items()}
    rows_of = flat_rows(patients, forms=export.forms_read,
                        record_order=None if deidentifier is None else export.deidentified.pseudonym)
    for _, group in groupby(rows_of, key=lambda row: row[0]):
        rows = list(group)  # one record's rows: its record row first
        if export.logic is not None and not any(_holds(export.logic, row, rows[0], site_codes) for row in rows):
            continue
        for row in rows:
            if row[instrument_at] and row[instrument_at] not in export.forms:
                continue
            yield (row if deidentifier is None else deidentifier.row(row)), written_codes


def _holds(logic: FilterLogic, row: list[str], record_row: list[str], site_codes: dict[str, str]) -> bool:
    """The logic on one row: its own values, and on an instance row the record's non-repeating ones."""
    positions = column_index()
    on_instance = row[positions[REPEAT_INSTRUMENT]] != ""

    def value_of(column: str) -> str:
        if column == ACCESS_GROUP:
            return site_codes.get(row[0], "")
        if on_instance and project.form_of_column(column) in RECORD_FORMS:
            return record_row[positions[column]]
        return row[positions[column]]

    return logic.matches(value_of)


def _flat_rows(export: RecordExport, patients: QuerySet[Patient]) -> Iterator[list[str]]:
    if export.columns == all_flat_columns() and not export.labels:  # the whole flat row, as it is
        yield from (row for row, _ in _chosen_rows(export, patients))
        return
    for row, site_codes in _chosen_rows(export, patients):
        yield written_row(export, row, site_codes)


def chosen_rows(export: RecordExport, patients: QuerySet[Patient]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The whole flat rows the export holds (filtered, de-identified when it is), each with the
    written site codes; a saved report sorts these before writing them with written_row()."""
    return _chosen_rows(export, patients)


def written_row(export: RecordExport, row: list[str], site_codes: dict[str, str]) -> list[str]:
    """One whole flat row as the export writes it: its columns, labelled when asked for."""
    positions = column_index()
    values = [row[positions[RECORD_ID]], row[positions[REPEAT_INSTRUMENT]], row[positions[REPEAT_INSTANCE]]]
    if export.access_groups:
        values.append(site_codes.get(row[0], ""))
    values += [row[positions[name]] for name in export.data_columns]
    if export.labels:
        infos = project.columns()
        values = [
            infos[name].value_label(value, checkbox_labels=export.checkbox_labels)
            for name, value in zip(export.columns, values, strict=True)
        ]
    return values


def _eav_rows(export: RecordExport, patients: QuerySet[Patient]) -> Iterator[list[str]]:
    positions = column_index()
    infos = project.columns()
    for row, site_codes in _chosen_rows(export, patients):
        record, instrument, instance = row[0], row[positions[REPEAT_INSTRUMENT]], row[positions[REPEAT_INSTANCE]]
        keys = [record, project.instrument_label(instrument) if export.labels and instrument else instrument, instance]
        if not instrument:
            yield [*keys, RECORD_ID, record]
            if export.access_groups:
                yield [*keys, ACCESS_GROUP, site_codes.get(record, "")]
        for name in export.data_columns:
            raw = row[positions[name]]
            if raw == "":
                continue
            info = infos[name]
            if info.checkbox_code is not None:
                if raw != "1":
                    continue
                value = info.choice_label if export.labels else info.checkbox_code
                yield [*keys, info.field.name, value]
                continue
            yield [*keys, name, info.value_label(raw, checkbox_labels=False) if export.labels else raw]
