"""Saved reports: which a user sees, and a report's rows for that user.

Which reports: a user's own, and every shared one (REDCap's reports shared with all users); a
private report is its owner's alone, administrators included. A user without a registry role sees
none.

A report's rows are the REDCap flat export's (registry/api/redcap/record_export.py) of the report's
fields, through the same rules as every export:
- the records of the sites the reader sees (the one access rule), whoever saved the report;
- de-identified for a reader who may not export identified data (registry/selectors/export_access.py):
  identifier columns left out, record IDs replaced by pseudonyms, dates shifted; a report whose filter
  names an identifier or a date field cannot be read de-identified (its answer would reveal the real
  values), and says so;
- the filter keeps a record, with all its rows, when the logic holds on at least one of its rows.

Sort (REDCap's report sort): rows by the sort field's value, compared as the field's type (numbers
and codes as numbers, dates as dates, text ignoring case), in the direction asked; on a repeating
instrument's row a field of the record's own forms (enrollment, vital status) reads the record's
value, so a record's rows stay together when sorted by one of those; rows without a value come last
whatever the direction; ties keep the export's order (record, then instrument, then instance).
De-identified rows are sorted on the values written (pseudonyms, shifted dates), never on the real
ones; a sort on an identifier field, left out of a de-identified report, is not applied.

Queries: a report's rows take those of the flat export (the patients' ids, then per batch of 200
patients one for the patients and one per repeating instrument the report reads).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet

from registry.api.redcap import project
from registry.api.redcap.record_export import (
    RecordExport, chosen_rows, identifier_columns, with_codes_in_use, written_row,
)
from registry.exports.deidentify import DeidentificationKeyMissing, deidentification_key
from registry.models import SavedReport, SortDirection
from registry.records.filter_logic import DATE, NUMBER, FilterLogicError, parse_filter_logic
from registry.records.flat_layout import column_index
from registry.records.instruments import RECORD_ID, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS
from registry.selectors.access import access_for
from registry.selectors.export_access import may_export_identified
from registry.selectors.record_export import exportable_patients


class ReportUnavailable(LookupError):
    """A report the user may not read, or not this way; the message says why."""


class DeidentificationUnavailable(ReportUnavailable):
    """The reader reads de-identified data and no de-identification key is configured."""


def visible_reports(user) -> QuerySet[SavedReport]:
    """The user's own reports and every shared one, by name; one query, owners joined."""
    if access_for(user).role is None:
        return SavedReport.objects.none()
    return SavedReport.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner").order_by("name", "id")


def visible_report(user, report_id) -> SavedReport:
    """The report `report_id` if the user sees it; raises ReportUnavailable (unknown, private to
    someone else, or not an id) with the same message in each case, so ids tell nothing."""
    try:
        number = int(str(report_id))
    except ValueError:
        number = None
    report = None if number is None else visible_reports(user).filter(pk=number).first()
    if report is None:
        raise ReportUnavailable(f"No report {str(report_id)!r} among the reports you can see")
    return report


@dataclass(frozen=True)
class ReportTable:
    report: SavedReport
    columns: tuple[str, ...]  # the export columns: record_id, the repeat columns, the report's fields
    header_labels: tuple[str, ...]  # each column's label (rawOrLabelHeaders=label)
    rows: list[list[str]]
    deidentified: bool
    record_ids: frozenset[str]  # the records the rows hold (pseudonyms when de-identified)


def report_table(report: SavedReport, *, user, labels: bool = False, checkbox_labels: bool = False) -> ReportTable:
    """The report's rows for `user` (see the module's rules). Raises ReportUnavailable when the
    report cannot be read de-identified, or no de-identification key is configured."""
    key = None
    if not may_export_identified(user):
        try:
            key = deidentification_key()
        except DeidentificationKeyMissing as error:
            raise DeidentificationUnavailable(str(error)) from None
    try:
        data_columns = project.selected_columns(fields=list(report.fields), forms=[])
    except project.UnknownNames as error:  # saved before the dictionary changed
        raise ReportUnavailable(f"The report names fields the data dictionary no longer has: {error}") from None
    if key is not None:
        identifiers = identifier_columns()
        data_columns = [name for name in data_columns if name not in identifiers]
    logic = None
    if report.filter_logic:
        try:
            logic = parse_filter_logic(report.filter_logic, project.column_kinds())
        except FilterLogicError as error:  # saved before the dictionary changed
            raise ReportUnavailable(f"The report's filter cannot be read any more: {error}") from None
        if key is not None:
            revealing = sorted(set(logic.columns) & (identifier_columns() | project.date_columns()))
            if revealing:
                raise ReportUnavailable(
                    f"You read de-identified data, and the report {report.name!r} filters on identifier or date "
                    f"fields ({', '.join(revealing)}) whose real values its rows would reveal; ask its owner "
                    "for a filter without them")
    export = RecordExport(
        record_type="flat", file_format="csv", records=None, data_columns=tuple(data_columns),
        forms=frozenset(project.form_of_column(name) for name in data_columns) & set(REPEATING_INSTRUMENTS),
        labels=labels, label_headers=False, checkbox_labels=checkbox_labels, access_groups=False, logic=logic,
        changed_from=None, changed_until=None, deidentified=key,
    )
    patients = exportable_patients(user=user)
    export = with_codes_in_use(export, patients)  # a checkbox's code columns: only when a record holds a code
    full_rows = list(chosen_rows(export, patients))
    sort_column = report.sort_field
    if sort_column and (sort_column == RECORD_ID or sort_column in data_columns):
        full_rows = _sorted(full_rows, sort_column, descending=report.sort_direction == SortDirection.DESCENDING)
    infos = project.columns()
    return ReportTable(
        report=report, columns=export.columns, header_labels=tuple(infos[name].label for name in export.columns),
        rows=[written_row(export, row, codes) for row, codes in full_rows], deidentified=key is not None,
        record_ids=frozenset(row[0] for row, _ in full_rows),
    )


def _sorted(rows: list[tuple[list[str], dict]], column: str, *, descending: bool) -> list[tuple[list[str], dict]]:
    positions = column_index()
    position, instrument_at = positions[column], positions[REPEAT_INSTRUMENT]
    kind = project.columns()[column].kind
    reads_record = project.form_of_column(column) in project.RECORD_FORMS
    keyed, blank = [], []
    record_value = ""
    for item in rows:
        row = item[0]
        if not row[instrument_at]:  # a record row comes before the record's instance rows
            record_value = row[position]
        value = record_value if row[instrument_at] and reads_record else row[position]
        sort_key = _sort_key(value, kind)
        (blank if sort_key is None else keyed).append((sort_key, item))
    keyed.sort(key=lambda pair: pair[0], reverse=descending)  # stable in both directions
    return [item for _, item in keyed] + [item for _, item in blank]


def _sort_key(text: str, kind: str):
    """A comparable value: numbers as numbers, dates as dates, text ignoring case; None when blank.
    A stored value that is not of its field's kind sorts after those that are, as text."""
    if text == "":
        return None
    if kind == NUMBER:
        try:
            return (0, Decimal(text), "")
        except InvalidOperation:
            return (1, Decimal(0), text.casefold())
    if kind == DATE:
        try:
            return (0, date.fromisoformat(text), "")
        except ValueError:
            return (1, date.min, text.casefold())
    return (0, text.casefold(), text)
