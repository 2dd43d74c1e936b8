"""Importing REDCap flat records: every row checked, then everything written or nothing.

The rows are checked in three passes, so that they may come in any order:

1. record rows (blank repeat instrument): the patient, i.e. the enrollment and vital status forms;
2. the repeating instruments that name no other instance;
3. lesion measurements and NGS variants, which find the assessment, lesion or biopsy they name in
   the database, where this import's own earlier writes already are.

The file is parsed once: the first pass keeps the rows of the other two in spools (temporary
files, on disk beyond SPOOL_MEMORY_BYTES), which they read back. Each pass buffers at most
CHUNK_ROWS rows of one instrument, then checks and writes them with a fixed number of queries. Valid rows are written even after a problem was found, so that later rows
are checked against the database as the import would leave it; the caller (records_import) owns
the one transaction and rolls it back when there was any problem, or for a dry run.
"""
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DEFERRED, Q
from django.db.models.functions import Lower
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from registry.models import Patient, Site
from registry.models.fields import MissingCodable
from registry.selectors.access import access_for
from registry.selectors.locks import RecordLocks, record_locks
from registry.services.bulk_statements import PlannerStatistics, create_with_history, update_with_history

from .flat_layout import FlatColumn, form_columns
from .flat_source import FlatSource, RowSpool, SourceRow, UnreadableFile
from .import_result import ImportProblem, ImportResult, InstanceChange
from .instruments import (
    DEPENDENT_INSTRUMENTS, INSTRUMENTS, RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS,
    InvalidValue, column_owner, unstorable_text_reason,
)
from .dictionary import data_dictionary

CHUNK_ROWS = 1000  # rows of one instrument checked and written together
# The parsed values remembered per column (FlatImport.parsed_texts): dates, whole numbers and
# numbers, whose values (date, int, Decimal) are immutable and a pure function of the text and
# the column; at most this many texts each, so that memory stays bounded by the columns.
PARSED_TEXTS_VALIDATIONS = ("date_ymd", "integer", "number")
PARSED_TEXTS_KEPT = 4096

RECORD_ROW = ""  # the instrument key of a record row (blank redcap_repeat_instrument)
RECORD_FORMS = ("enrollment", "vital_status")
INDEPENDENT_INSTRUMENTS = tuple(name for name in REPEATING_INSTRUMENTS if name not in DEPENDENT_INSTRUMENTS)
PASSES = ((RECORD_ROW,), INDEPENDENT_INSTRUMENTS, DEPENDENT_INSTRUMENTS)

# Instance numbers below this are remembered as bits of one integer per record and instrument (a
# few bytes each); larger ones, rare, in a set.
_BITSET_LIMIT = 1 << 16
_LARGEST_INSTANCE = 2_147_483_647  # PositiveIntegerField's range on every supported database


@dataclass(frozen=True)
class UniqueKey:
    """A rule 'one per patient' of a repeating instrument, checked before writing.

    `attributes` are those of the model's UniqueConstraint besides the patient; `message` is
    formatted with `other` (the instance already holding the key) and the row's column texts.
    """

    attributes: tuple[str, ...]
    column: str
    message: str


UNIQUE_KEYS = {
    "treatment_line": UniqueKey(
        ("line_no",), "line_no", "another treatment line of this patient (instance {other}) has line number {line_no}"
    ),
    "tumor_assessment": UniqueKey(
        ("ta_date",), "ta_date", "another tumor assessment of this patient (instance {other}) is dated {ta_date}"
    ),
    "lesion": UniqueKey(
        ("les_id",), "les_id", "another lesion of this patient (instance {other}) has the identifier {les_id}"
    ),
    "lesion_measurement": UniqueKey(
        ("assessment_id", "lesion_id"), "lm_lesion",
        "another measurement of this patient (instance {other}) is of lesion {lm_lesion} at the assessment "
        "of {lm_date}",
    ),
    "biopsy": UniqueKey(
        ("bx_date",), "bx_date", "another biopsy of this patient (instance {other}) is dated {bx_date}"
    ),
}


@dataclass
class ParsedRow:
    line: int
    record: str
    instrument: str  # RECORD_ROW or a repeating instrument
    instance: int | None
    instance_text: str
    texts: dict[str, str]  # the row's columns of its own form(s), as given (blank included)
    values: dict[str, object]  # the same columns parsed; None for a blank cell
    failed: set[str] = field(default_factory=set)  # columns whose value was refused


class _ProblemLimit(Exception):
    """Raised once `max_problems` problems were found: checking stops there."""


def record_taken(record_id: str) -> str:
    """The reason a record ID is refused because a record has it already (or has it in other letter
    case): the same whatever site that record is at, and naming nothing of it, so that it tells only
    what creating the record would tell anyway."""
    return (f"A record with the ID {record_id} exists already (record IDs are unique in the registry, "
            "ignoring letter case)")


class FlatImport:
    def __init__(
        self, *, source, file_format: str, site: Site | None, user, overwrite: bool, change_reason: str,
        max_changes: int, max_problems: int, dry_run: bool, sites_by_record: Mapping[str, Site] | None = None,
    ):
        self.source = FlatSource(source, file_format)
        self.site = site
        # The site of each record the caller names one for (REDCap's redcap_data_access_group
        # column); every other record has `site`.
        self.sites_by_record = sites_by_record or {}
        self.user = user
        # user None is the system (an operator's command): it may change every site.
        self.access = None if user is None else access_for(user)
        self.overwrite = overwrite
        self.change_reason = change_reason
        self.max_changes = max_changes
        self.max_problems = max_problems
        self.now = timezone.now()
        forms = data_dictionary().forms
        self.result = ImportResult(
            dry_run=dry_run,
            created=dict.fromkeys(forms, 0), updated=dict.fromkeys(forms, 0), unchanged=dict.fromkeys(forms, 0),
        )
        # Bounded by the number of records, never by the number of rows:
        self.record_rows: set[str] = set()  # records with a record row in the file
        # Lower-cased ID → the new record of this file that has it (record IDs are unique ignoring case).
        self.new_records_ignoring_case: dict[str, str] = {}
        self.records_reported: set[str] = set()  # records refused as a whole (reported once)
        self.instances_seen: dict[tuple[str, str], int] = {}  # (instrument, record) -> bitset of instances
        self.large_instances_seen: set[tuple[str, str, int]] = set()
        self.model_checks: dict[type[models.Model], _ModelChecks] = {}
        self.layouts: dict[tuple, tuple] = {}  # see _layout
        self.planner_statistics = PlannerStatistics()  # later chunks read what earlier ones wrote
        # Column name -> {text: its value} of the dates and numbers parsed so far (the same texts recur
        # on thousands of rows): only texts that parsed, so a refused text is checked, and reported,
        # every time. Keyed by column, as one text may be valid in one column and not in another.
        self.parsed_texts: dict[str, dict[str, object]] = {
            column.name: {} for form in forms for column in form_columns(form)
            if column.field is not None and column.field.validation in PARSED_TEXTS_VALIDATIONS
        }

    # ------------------------------------------------------------------ driver

    def run(self) -> ImportResult:
        # The file is parsed once: the first pass keeps the rows of the two later passes in spools,
        # which they read back in the file's order.
        later = {number: RowSpool() for number in range(1, len(PASSES))}
        try:
            self._run_pass(PASSES[0], self._first_reading(later))
            for number, spool in later.items():
                self._run_pass(PASSES[number], spool.rows())
        except UnreadableFile as error:
            self._add(ImportProblem(None, "", "", "", "", "", f"The file {error}."))
        except _ProblemLimit:
            self.result.problems.append(
                ImportProblem(None, "", "", "", "", "", f"Checking stopped after {self.max_problems} problems.")
            )
        finally:
            for spool in later.values():
                spool.close()
        return self.result

    def _first_reading(self, later: dict[int, RowSpool]) -> Iterator[tuple[str, SourceRow]]:
        """The rows of the first pass, with their instrument, from the file; those of the later
        passes go to their spools. Problems of the file and of rows that name no instrument are
        reported here, once."""
        pass_of = {instrument: number for number, instruments in enumerate(PASSES) for instrument in instruments}
        for source_row in self.source.rows(self._file_problem):
            self.result.rows_read += 1
            instrument = self._route(source_row)
            number = pass_of.get(instrument)
            if number == 0:
                yield instrument, source_row
            elif number is not None:
                later[number].add(instrument, source_row)

    def _run_pass(self, instruments: tuple[str, ...], rows: Iterable[tuple[str, SourceRow]]) -> None:
        buffers: dict[str, list[ParsedRow]] = {name: [] for name in instruments}
        # Each instrument is read in one pass only: what the last pass saw is no longer needed.
        self.instances_seen.clear()
        self.large_instances_seen.clear()
        for instrument, source_row in rows:
            parsed = self._parse(source_row, instrument)
            if parsed is None:
                continue
            buffers[instrument].append(parsed)
            if len(buffers[instrument]) >= CHUNK_ROWS:
                self._flush(instrument, buffers[instrument])
                buffers[instrument] = []
        for instrument, rows in buffers.items():
            if rows:
                self._flush(instrument, rows)

    def _flush(self, instrument: str, rows: list[ParsedRow]) -> None:
        if instrument == RECORD_ROW:
            self._flush_record_rows(rows)
        else:
            self._flush_repeating(instrument, rows)

    # ------------------------------------------------------------------ problems

    def _add(self, problem: ImportProblem) -> None:
        if len(self.result.problems) >= self.max_problems:
            raise _ProblemLimit
        self.result.problems.append(problem)

    def _file_problem(self, line: int | None, field_name: str, value: str, reason: str) -> None:
        self._add(ImportProblem(line, "", "", "", field_name, value, reason))

    def _row_problem(self, row: ParsedRow, form: str, field_name: str, value: str, reason: str) -> None:
        self._add(ImportProblem(row.line, row.record, form, row.instance_text, field_name, value, reason))

    # ------------------------------------------------------------------ reading one row

    def _route(self, source_row: SourceRow) -> str | None:
        """The row's instrument (RECORD_ROW for a record row), or None (reported) for a row that
        names none."""
        record = source_row.get(RECORD_ID)
        instrument = source_row.get(REPEAT_INSTRUMENT)
        if instrument and instrument not in REPEATING_INSTRUMENTS:
            self._add(ImportProblem(
                source_row.line, record, "", source_row.get(REPEAT_INSTANCE), REPEAT_INSTRUMENT, instrument,
                f"is not a repeating instrument of this project ({', '.join(REPEATING_INSTRUMENTS)})",
            ))
            return None
        if not record:
            self._add(ImportProblem(
                source_row.line, "", instrument or "enrollment", source_row.get(REPEAT_INSTANCE), RECORD_ID, "",
                "is blank; every row needs the record ID",
            ))
            return None
        unstorable = unstorable_text_reason(record)
        if unstorable is not None:
            self._add(ImportProblem(source_row.line, "", instrument or "enrollment",
                                    source_row.get(REPEAT_INSTANCE), RECORD_ID, record, unstorable))
            return None
        return instrument

    def _parse(self, source_row: SourceRow, instrument: str) -> ParsedRow | None:
        """The row's values parsed, each refused value reported; None when the row has no usable key."""
        cells = source_row.cells
        instance_text = cells.get(REPEAT_INSTANCE, "")
        row = ParsedRow(
            line=source_row.line, record=cells[RECORD_ID], instrument=instrument, instance=None,
            instance_text=instance_text, texts={}, values={},
        )
        row_form = instrument or "enrollment"
        usable = True
        if instrument == RECORD_ROW and instance_text:
            self._row_problem(row, row_form, REPEAT_INSTANCE, instance_text,
                              "is given on a record row (blank repeat instrument), which has no instance number")
            usable = False
        if instrument != RECORD_ROW:
            row.instance = self._parse_instance(row, row_form)
            usable = row.instance is not None and self._first_time_seen(row)
        own, others = self._layout(instrument, cells)
        if others is not None and "".join(others(cells)):
            # A value in a column of another form: every cell in turn, so that the problems come
            # in the row's order.
            own_columns = _own_columns(instrument)
            for name, text in cells.items():
                column = own_columns.get(name)
                if column is not None:
                    self._parse_text(row, column, text)
                elif text and name not in KEY_COLUMNS:
                    form = column_owner()[name][0]
                    self._row_problem(row, row_form, name, text, _foreign_column_reason(form, instrument))
                    usable = False
            return row if usable else None
        texts, values = row.texts, row.values
        for name, column in own:  # _parse_text, inline: this is every cell of every row
            text = cells[name]
            texts[name] = text
            if not text:
                values[name] = None
                continue
            value = column.codes.get(text, _NOT_CODED)
            if value is _NOT_CODED:
                self._parse_cell(row, column, text)
            else:
                values[name] = value
        return row if usable else None

    def _parse_text(self, row: ParsedRow, column: FlatColumn, text: str) -> None:
        row.texts[column.name] = text
        if not text:
            row.values[column.name] = None
            return
        # A code is looked up (FlatColumn.parse without its calls: most cells are codes).
        value = column.codes.get(text, _NOT_CODED)
        if value is _NOT_CODED:
            self._parse_cell(row, column, text)
        else:
            row.values[column.name] = value

    def _layout(self, instrument: str, cells: dict[str, str]):
        """The row's own columns, in its order, [(name, column)]; and a function giving the texts of
        its columns of other forms (None when it has none), which must all be blank. The same for
        every row with the same columns (a CSV file's rows all have the header's)."""
        key = (instrument, tuple(cells))
        layout = self.layouts.get(key)
        if layout is None:
            own_columns = _own_columns(instrument)
            own = [(name, own_columns[name]) for name in cells if name in own_columns]
            others = [name for name in cells if name not in own_columns and name not in KEY_COLUMNS]
            if not others:
                texts_of_others = None
            elif len(others) == 1:
                texts_of_others = lambda cells, name=others[0]: (cells[name],)  # noqa: E731
            else:
                texts_of_others = itemgetter(*others)
            if len(self.layouts) >= _LAYOUTS_KEPT:
                self.layouts.clear()
            layout = self.layouts[key] = (own, texts_of_others)
        return layout

    def _parse_instance(self, row: ParsedRow, form: str) -> int | None:
        text = row.instance_text
        if not text:
            self._row_problem(row, form, REPEAT_INSTANCE, text,
                              "is blank; a repeating instrument row needs its instance number")
            return None
        if not text.isdigit() or int(text) < 1 or int(text) > _LARGEST_INSTANCE:
            self._row_problem(row, form, REPEAT_INSTANCE, text, "is not an instance number (a whole number from 1)")
            return None
        return int(text)

    def _first_time_seen(self, row: ParsedRow) -> bool:
        """False (and reported) when the file already had a row for this record, instrument and instance."""
        key = (row.instrument, row.record)
        if row.instance < _BITSET_LIMIT:
            bits = self.instances_seen.get(key, 0)
            mask = 1 << row.instance
            seen = bool(bits & mask)
            self.instances_seen[key] = bits | mask
        else:
            seen = (*key, row.instance) in self.large_instances_seen
            self.large_instances_seen.add((*key, row.instance))
        if seen:
            self._row_problem(row, row.instrument, REPEAT_INSTANCE, row.instance_text,
                              f"appears on more than one row for this record's {row.instrument}")
        return not seen

    def _parse_cell(self, row: ParsedRow, column: FlatColumn, text: str) -> None:
        if not text:
            row.values[column.name] = None
            return
        parsed = self.parsed_texts.get(column.name)
        if parsed is not None:
            value = parsed.get(text, _NOT_CODED)
            if value is not _NOT_CODED:
                row.values[column.name] = value
                return
        if column.max_length is not None and len(text) > column.max_length:
            reason = f"is longer than the {column.max_length} characters this field holds"
        else:
            try:
                value = column.parse(text)
            except InvalidValue as error:
                reason = str(error)
            else:
                row.values[column.name] = value
                if parsed is not None and len(parsed) < PARSED_TEXTS_KEPT:
                    parsed[text] = value
                return
        row.failed.add(column.name)
        self._row_problem(row, column.form, column.name, text, reason)

    # ------------------------------------------------------------------ record rows: the patient

    def _flush_record_rows(self, rows: list[ParsedRow]) -> None:
        """Queries: one for the chunk's patients (with their site; it takes their row locks), then a bulk
        insert of the new patients and of their history, and a bulk update plus history per set of
        changed fields."""
        # Looked up ignoring letter case (the unique index on the lower-cased ID serves it): a new
        # record whose ID a stored one has in other case is refused, never inserted.
        # The same query takes the row locks of the stored records (in id order, as patients_lock
        # does, so that two writers cannot deadlock on one chunk), before their locks are read below:
        # a lock committed meanwhile is seen, and no other door writes these records until the import
        # ends (registry/services/locks.py). PostgreSQL returns each row as it is once locked.
        stored = {
            patient.record_id: patient
            for patient in Patient.objects.annotate(lowered=Lower("record_id"))
            .filter(lowered__in={row.record.lower() for row in rows}).select_related("site")
            .select_for_update(of=("self",)).order_by("id")
        }
        taken_ignoring_case = {record_id.lower() for record_id in stored}
        locks = record_locks(patient.pk for patient in stored.values())
        columns = form_columns("enrollment") + form_columns("vital_status")
        writes = _Writes()
        for row in rows:
            if row.record in self.record_rows:
                self._row_problem(row, "enrollment", RECORD_ID, row.record,
                                  "has more than one record row (blank repeat instrument) in the file")
                continue
            self.record_rows.add(row.record)
            patient = stored.get(row.record)
            if patient is None and (row.record.lower() in taken_ignoring_case
                                    or self.new_records_ignoring_case.setdefault(row.record.lower(), row.record)
                                    != row.record):
                # Stored, or new earlier in this file, in other letter case: the database's unique
                # index on the lower-cased ID would refuse it.
                self._refuse_record(row, "enrollment", record_taken(row.record))
                continue
            if patient is None:
                site = self._site_of(row.record)
                if site is None:
                    self._refuse_record(row, "enrollment", "is a new record, but no site was chosen for new records")
                    patient = Patient(record_id=row.record)  # checked, never written
                else:
                    patient = Patient(site=site, record_id=row.record)
            elif not self._may_change(row, "enrollment", patient.site_id, patient.site.code):
                continue
            is_new = patient.pk is None
            old_texts = {column.name: ("" if is_new else column.text_of(patient)) for column in columns}
            self._apply(row, patient, is_new=is_new, targets={})
            if not self._valid(row, patient, columns, is_new=is_new) or row.record in self.records_reported:
                continue
            new_texts = {column.name: column.text_of(patient) for column in columns}
            if not is_new and patient.pk in locks and self._locked(row, locks[patient.pk], [
                    form for form in RECORD_FORMS
                    if any(old_texts[c.name] != new_texts[c.name] for c in form_columns(form))]):
                continue
            changed = self._count_record_forms(row, old_texts, new_texts, is_new=is_new)
            writes.add(patient, is_new=is_new,
                       attributes={name for c in columns if c.name in changed for name in c.attributes})
        writes.save(Patient, user=self.user, reason=self.change_reason, now=self.now)
        self._note_written(Patient, writes)

    def _count_record_forms(self, row, old_texts, new_texts, *, is_new: bool) -> set[str]:
        """Counts enrollment and vital status apart (REDCap's forms); returns the changed columns.

        A form exists once any of its values is filled in: a record whose vital status was never
        entered has no vital status form to count."""
        changed_columns: set[str] = set()
        for form in RECORD_FORMS:
            names = [column.name for column in form_columns(form)]
            existed = not is_new and any(old_texts[name] for name in names)
            exists = is_new and form == "enrollment" or any(new_texts[name] for name in names)
            changes = {name: (old_texts[name], new_texts[name]) for name in names if old_texts[name] != new_texts[name]}
            changed_columns.update(changes)
            if not exists and not existed:
                continue
            if not existed:
                self._count(form, "create", row.record, None, changes)
            elif changes:
                self._count(form, "update", row.record, None, changes)
            else:
                self.result.unchanged[form] += 1
        return changed_columns

    # ------------------------------------------------------------------ repeating instruments

    def _flush_repeating(self, instrument: str, rows: list[ParsedRow]) -> None:
        """Queries: the chunk's patients (taking their row locks); the stored instances the rows name
        (with the instances they reference); the keys of every instance of those patients (for instruments with a
        'one per patient' rule); for measurements and variants one per referenced instrument; then
        a bulk insert plus history, and a bulk update plus history per set of changed fields."""
        model = INSTRUMENTS[instrument].model
        columns = form_columns(instrument)
        references = [column for column in columns if column.reference is not None]
        new_instances = _new_instances(model)
        # Row locks of the chunk's records, taken by the query that reads them, in id order, before
        # their instances and locks are read (see _flush_record_rows; already held for the records
        # of the file's record rows).
        patients = {
            record_id: (patient_id, site_id, site_code)
            for record_id, patient_id, site_id, site_code in Patient.objects.filter(
                record_id__in={row.record for row in rows}
            ).select_for_update(of=("self",)).order_by("id").values_list("record_id", "id", "site_id", "site__code")
        }
        patient_ids = {patient_id for patient_id, _, _ in patients.values()}
        stored = {
            (instance.patient_id, instance.redcap_repeat_instance): instance
            for instance in model.objects.filter(
                patient_id__in=patient_ids, redcap_repeat_instance__in={row.instance for row in rows},
            ).order_by()
        }
        unique_key = UNIQUE_KEYS.get(instrument)
        stored_keys: dict[tuple, int] = {}
        if unique_key is not None:
            # Unordered: the models' default ordering (by patient, i.e. record ID, and for a
            # measurement its scan date and lesion) joins three tables, whose whole indexes the
            # merge joins then read for every chunk.
            for patient_id, instance, *key in model.objects.filter(patient_id__in=patient_ids).order_by().values_list(
                "patient_id", "redcap_repeat_instance", *unique_key.attributes
            ):
                stored_keys[(patient_id, *key)] = instance
        targets = self._reference_targets(references, rows, patient_ids, stored.values())
        locks = record_locks(patient_ids)
        chunk_keys: dict[tuple, int] = {}
        writes = _Writes()
        for row in rows:
            patient_id = self._patient_of(row, patients)
            instance = stored.get((patient_id, row.instance))
            is_new = instance is None
            if is_new:
                instance = new_instances.new(patient_id, row.instance)
                old_values = None
            else:
                old_values = _values(instance, columns)
            row_targets = {} if patient_id is None else {
                column.name: targets.get((column.name, patient_id, row.values.get(column.name)))
                for column in references
            }
            self._apply(row, instance, is_new=is_new, targets=row_targets)
            if not self._valid(row, instance, columns, is_new=is_new) or patient_id is None:
                continue
            if unique_key is not None and not self._unique(row, instance, unique_key, stored_keys, chunk_keys):
                continue
            if not is_new:
                changes = _changed(instance, columns, old_values)
            if patient_id in locks and (is_new or changes) and self._locked(row, locks[patient_id], [instrument]):
                continue
            if is_new:
                # The values of a new instance are listed only while there is room for them.
                changes = _created(instance, columns) if len(self.result.changes) < self.max_changes else {}
                self._count(instrument, "create", row.record, row.instance, changes)
            else:
                if changes:
                    self._count(instrument, "update", row.record, row.instance, changes)
                else:
                    self.result.unchanged[instrument] += 1
            if is_new:
                writes.new.append(instance)
            elif changes:
                writes.add_changed(
                    instance, {name for column in columns if column.name in changes for name in column.attributes}
                )
        writes.save(model, user=self.user, reason=self.change_reason, now=self.now)
        self._note_written(model, writes)

    def _note_written(self, model: type[models.Model], writes: "_Writes") -> None:
        """Remembers the ids written, for the soft checks of what the import wrote (records_import)."""
        ids = self.result.written_ids.setdefault(model, [])
        before = len(ids)
        ids.extend(instance.pk for instance in writes.new)
        ids.extend(instance.pk for instances in writes.changed.values() for instance in instances)
        self.planner_statistics.wrote(model, len(ids) - before)

    def _patient_of(self, row: ParsedRow, patients: dict) -> int | None:
        """The stored patient a repeating row belongs to; None (the row is checked, never written)
        when there is none or it may not be changed."""
        found = patients.get(row.record)
        if found is None:
            if row.record not in self.record_rows:
                # A record row in the file that created nothing was reported in pass 1.
                self._refuse_record(
                    row, row.instrument,
                    "is not a record of the registry, and the file has no record row for it (a row with a blank "
                    "repeat instrument)",
                )
            return None
        patient_id, site_id, site_code = found
        return patient_id if self._may_change(row, row.instrument, site_id, site_code) else None

    def _reference_targets(self, references: list[FlatColumn], rows: list[ParsedRow], patient_ids, stored) -> dict:
        """(column, patient id, key) -> the instance a measurement or variant names, one query per
        reference: those the rows name, and those the stored instances name now (put on them, so
        that reading them costs no query). Only their id, patient and key are read."""
        targets = {}
        for column in references:
            keys = {row.values[column.name] for row in rows if row.values.get(column.name) is not None}
            named_now = {getattr(instance, f"{column.attribute}_id") for instance in stored} - {None}
            if not keys and not named_now:
                continue
            key_field = column.reference.target_field
            found = {}
            for target in column.reference.target.objects.filter(
                Q(patient_id__in=patient_ids, **{f"{key_field}__in": keys}) | Q(pk__in=named_now)
            ).only("pk", "patient_id", key_field).order_by():
                targets[(column.name, target.patient_id, getattr(target, key_field))] = target
                found[target.pk] = target
            # As select_related would: the instance named is cached on the foreign key.
            cache_target = column.model_field.set_cached_value
            attname = column.model_field.attname
            for instance in stored:
                target = found.get(getattr(instance, attname))
                if target is not None:
                    cache_target(instance, target)
        return targets

    def _unique(self, row, instance, unique_key: UniqueKey, stored_keys, chunk_keys) -> bool:
        """Whether the instance keeps its 'one per patient' rule, against the database as it stands
        and the rows of this chunk. A key still stored on another instance counts even when that
        instance changes in this chunk: one UPDATE statement may write the two in either order."""
        key = (instance.patient_id, *(getattr(instance, attribute) for attribute in unique_key.attributes))
        other = stored_keys.get(key)
        if other is None or other == row.instance:
            other = chunk_keys.get(key)
        if other is not None and other != row.instance:
            texts = {column.name: column.text_of(instance) for column in form_columns(row.instrument)}
            self._row_problem(row, row.instrument, unique_key.column, texts[unique_key.column],
                              unique_key.message.format(other=other, **texts))
            return False
        chunk_keys[key] = row.instance
        return True

    # ------------------------------------------------------------------ shared by both kinds of rows

    def _site_of(self, record: str) -> Site | None:
        """The site a new record goes to, and that an existing record must already belong to."""
        return self.sites_by_record.get(record, self.site)

    def _may_change(self, row: ParsedRow, form: str, site_id: int, site_code: str) -> bool:
        if self.access is not None and not self.access.can_see_site(site_id):
            # Record IDs are unique across sites, so the ID is taken; but neither the site nor
            # anything else of another site's record is named to someone who may not see it.
            self._refuse_record(row, form, record_taken(row.record))
            return False
        expected = self._site_of(row.record)
        if expected is not None and site_id != expected.id:
            self._refuse_record(
                row, form, f"belongs to site {site_code}; an import never moves a record to another site"
            )
            return False
        if self.access is not None and not self.access.can_change_site(site_id):
            self._refuse_record(row, form, f"belongs to site {site_code}, whose records you may not change")
            return False
        return True

    def _locked(self, row: ParsedRow, locks: RecordLocks, forms: list[str]) -> bool:
        """Whether the row would change locked data (reported, naming the lock): a record locked as a
        whole takes nothing, a locked instance (or record form) is not changed. Unchanged rows pass,
        so that a file exported from the registry imports again over its locked records."""
        for form in forms:
            lock = locks.lock_of(form, row.instance)
            if lock is not None:
                self._row_problem(row, form, RECORD_ID if lock.is_whole_record else REPEAT_INSTANCE,
                                  row.record if lock.is_whole_record else row.instance_text,
                                  f"cannot be changed: {lock.describe()}; a data manager may unlock it")
                return True
        return False

    def _refuse_record(self, row: ParsedRow, form: str, reason: str) -> None:
        """Reports a record refused as a whole, once, on the first of its rows read."""
        if row.record not in self.records_reported:
            self.records_reported.add(row.record)
            self._row_problem(row, form, RECORD_ID, row.record, reason)

    def _apply(self, row: ParsedRow, instance: models.Model, *, is_new: bool, targets: dict) -> None:
        """Puts the row's values on the instance, in the order of its instrument's columns (_own_columns;
        the record row's: enrollment's, then vital status's). A blank cell erases only when overwriting
        (REDCap's "overwrite" behaviour); a column the file does not have is never touched."""
        if _checkbox_groups(row.instrument):
            self._refuse_checkbox_conflicts(row)
        texts, failed, values = row.texts, row.failed, row.values
        erases = is_new or self.overwrite
        for column, plain_attribute in _apply_order(row.instrument):
            if column.name not in texts or column.name in failed:
                continue
            value = values[column.name]
            if value is None:
                if erases:
                    column.set_value(instance, None)  # erases a missing-data code too
            elif plain_attribute is not None:
                setattr(instance, plain_attribute, value)  # FlatColumn.set_value of a plain column's value
            elif column.reference is None:
                column.set_value(instance, value)
            elif column.name in targets:
                target = targets[column.name]
                if target is None:
                    row.failed.add(column.name)
                    self._row_problem(
                        row, row.instrument, column.name, row.texts[column.name],
                        f"no {column.reference.target._meta.verbose_name} of this patient is "
                        f"{_reference_phrase(column)} {row.texts[column.name]}",
                    )
                elif column.model_field.get_cached_value(instance, None) is not target:
                    setattr(instance, column.attribute, target)

    def _refuse_checkbox_conflicts(self, row: ParsedRow) -> None:
        """A checkbox field whose row ticks a missing-data code (its code column 1) and a real option, or
        two codes: reported on the code column, which is then not applied (the row is refused)."""
        for options, codes in _checkbox_groups(row.instrument):
            ticked_codes = [column for column in codes if row.values.get(column.name) is True]
            if not ticked_codes:
                continue
            first = ticked_codes[0]
            ticked = [column.name for column in options if row.values.get(column.name) is True]
            if ticked:
                row.failed.add(first.name)
                self._row_problem(row, first.form, first.name, row.texts[first.name], (
                    f"ticks the missing-data code {first.missing_code} while {', '.join(ticked)} "
                    f"{'is' if len(ticked) == 1 else 'are'} ticked: a checkbox field holds ticked options or a "
                    "code, never both"))
            for extra in ticked_codes[1:]:
                row.failed.add(extra.name)
                self._row_problem(row, extra.form, extra.name, row.texts[extra.name], (
                    f"ticks the missing-data code {extra.missing_code} besides {first.missing_code} "
                    f"({first.name}): a checkbox field holds one code at most"))

    def _valid(self, row: ParsedRow, instance: models.Model, columns, *, is_new: bool) -> bool:
        """Required fields, then the model's own field and cross-field rules (its clean()).

        The cross-field rules are judged only when every value of the row was readable, so that
        no rule speaks of a value that was refused."""
        valid = not row.failed
        for column in columns:
            if not column.required or column.name in row.failed:
                continue
            attribute = f"{column.attribute}_id" if column.reference is not None else column.attribute
            if getattr(instance, attribute) not in (None, ""):
                continue
            if column.missing_attribute is not None and getattr(instance, column.missing_attribute):
                continue  # a missing-data code stands in the value's place (issue 12 §4)
            if column.reference is not None and row.values.get(column.name) is not None:
                continue  # named, but the patient is unknown: the record was reported instead
            valid = False
            if column.name in row.texts:
                self._row_problem(row, column.form, column.name, "", "is required but is blank")
            elif is_new:
                self._row_problem(row, column.form, column.name, "", "is required, and the file has no such column")
        if not valid:
            return False
        try:
            self._model_checks(type(instance)).full_clean(instance)
        except ValidationError as error:
            by_attribute = {name: column for column in columns for name in column.attributes}
            for attribute, messages in error.message_dict.items():
                column = by_attribute.get(attribute)
                if column is not None:
                    form, name, text = column.form, column.name, row.texts.get(column.name) or column.text_of(instance)
                elif attribute == RECORD_ID:
                    form, name, text = "enrollment", RECORD_ID, row.record
                else:  # a rule on the whole instance
                    form, name, text = row.instrument or "enrollment", "", ""
                for message in messages:
                    self._row_problem(row, form, name, text, message)
            return False
        return True

    def _model_checks(self, model: type[models.Model]) -> "_ModelChecks":
        checks = self.model_checks.get(model)
        if checks is None:
            checks = self.model_checks[model] = _ModelChecks(model)
        return checks

    def _count(self, instrument: str, action: str, record: str, instance: int | None, changes: dict) -> None:
        counts = self.result.created if action == "create" else self.result.updated
        counts[instrument] += 1
        self.result.written_records.add(record)
        if len(self.result.changes) < self.max_changes:
            shown = {name: texts for name, texts in changes.items() if action == "update" or texts[1]}
            self.result.changes.append(InstanceChange(record, instrument, instance, action, shown))
        else:
            self.result.changes_truncated = True


class _ModelChecks:
    """`instance.full_clean(exclude=<its foreign keys>, validate_unique=False, validate_constraints=False)`,
    the same checks and messages, faster: what each field accepted is remembered.

    Foreign keys are excluded because the import found their targets itself (each check would be a
    query); uniqueness and constraints because the import checks them against the database and the
    file in bulk (UNIQUE_KEYS, instance numbers; the constraints' rules are also in clean()), and
    the database keeps them. The field checks (Model.clean_fields: choices, null, blank, lengths,
    validators such as a record ID's pattern, a decimal's places or an integer column's range) are a
    pure function of the value for Django's own field classes: a value a field accepted once, of the
    same type and unchanged by to_python, is accepted again without running them (at most
    REMEMBERED_VALUES per field). Refused values are always checked again, so their messages are
    Django's. clean(), the cross-field rules, runs for every instance."""

    REMEMBERED_VALUES = 4096

    def __init__(self, model: type[models.Model]):
        # (field, remembered {value: its type}, or None for a field whose checks are not remembered,
        # and whether values are remembered by their text: a Decimal's, so that Decimal("1.5")
        # and Decimal("1.500") are told apart).
        self.fields = [
            (field, {} if type(field).__module__ == _DJANGO_FIELDS or isinstance(field, MissingCodable) else None,
             isinstance(field, models.DecimalField))
            for field in model._meta.fields if not isinstance(field, models.ForeignKey) and not field.generated
        ]

    def full_clean(self, instance: models.Model) -> None:
        errors = {}
        try:
            self._clean_fields(instance)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance.clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _clean_fields(self, instance: models.Model) -> None:
        """Model.clean_fields(), remembering accepted values. A value remembered is one the field
        accepted, so it is skipped as Model.clean_fields would skip a blank one: either way the
        field is not checked and the value stays."""
        errors = {}
        for field, accepted, by_text in self.fields:
            raw_value = getattr(instance, field.attname)
            if accepted is not None:
                key = str(raw_value) if by_text else raw_value
                if accepted.get(key) is type(raw_value):
                    continue
            if field.blank and raw_value in field.empty_values:
                continue
            if isinstance(raw_value, DatabaseDefault):
                continue
            try:
                cleaned = field.clean(raw_value, instance)
            except ValidationError as error:
                errors[field.name] = error.error_list
                continue
            setattr(instance, field.attname, cleaned)
            # Remembered when to_python left it as it was: same type, same value (same digits).
            if (accepted is not None and type(cleaned) is type(raw_value) and len(accepted) < self.REMEMBERED_VALUES
                    and (str(cleaned) if by_text else cleaned) == key):
                accepted.setdefault(key, type(raw_value))
        if errors:
            raise ValidationError(errors)


_DJANGO_FIELDS = models.CharField.__module__  # django.db.models.fields: Django's own field classes


class _NewInstances:
    """`model(patient_id=..., redcap_repeat_instance=...)`, the same instance, built from positional
    arguments: Model.__init__'s fast path (the one a query's rows take), where keyword arguments
    cost a caught KeyError for every field not given, for every new row of an import.

    Each other field gets what Django's keyword path gives it, field.get_default(): worked out once
    where that is the same object every time (a constant default, as Django returns it), and again
    for each instance where it is not (a callable default, a database default's expression). A
    generated field is left out, as Django leaves it."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        fields = model._meta.concrete_fields
        self.values = [DEFERRED if field.generated else field.get_default() for field in fields]
        self.fresh = [
            (index, field) for index, field in enumerate(fields)
            if not field.generated and ((field.has_default() and callable(field.default)) or field.has_db_default())
        ]
        attnames = [field.attname for field in fields]
        self.patient_index = attnames.index("patient_id")
        self.instance_index = attnames.index("redcap_repeat_instance")

    def new(self, patient_id: int | None, instance_number: int) -> models.Model:
        values = self.values.copy()
        for index, field in self.fresh:
            values[index] = field.get_default()
        values[self.patient_index] = patient_id
        values[self.instance_index] = instance_number
        return self.model(*values)


@cache
def _new_instances(model: type[models.Model]) -> _NewInstances:
    return _NewInstances(model)


class _Writes:
    """The chunk's new instances, and its changed ones grouped by the fields that changed, so that
    an update writes only what changed (and unchanged instances get no audit-trail row)."""

    def __init__(self):
        self.new: list[models.Model] = []
        self.changed: dict[tuple[str, ...], list[models.Model]] = defaultdict(list)

    def add(self, instance: models.Model, *, is_new: bool, attributes: set[str]) -> None:
        if is_new:
            self.new.append(instance)
        elif attributes:
            self.add_changed(instance, attributes)

    def add_changed(self, instance: models.Model, attributes: set[str]) -> None:
        self.changed[tuple(sorted(attributes))].append(instance)

    def save(self, model: type[models.Model], *, user, reason: str, now) -> None:
        """An INSERT of the new instances and one of their history rows; per set of changed fields
        an UPDATE and an INSERT of the history rows (registry/services/bulk_statements.py)."""
        create_with_history(model, self.new, user=user, change_reason=reason)
        for attributes, instances in self.changed.items():
            for instance in instances:
                # Only the changed fields are written, so auto_now does not apply: the time of the
                # change is set here.
                instance.updated_at = now
            update_with_history(model, instances, [*attributes, "updated_at"], user=user, change_reason=reason)


def _created(instance: models.Model, columns) -> dict[str, tuple[str, str]]:
    """The filled-in columns of a new instance: {column: ("", text)}."""
    texts = ((column.name, column.text_of(instance)) for column in columns)
    return {name: ("", text) for name, text in texts if text}


def _values(instance: models.Model, columns) -> list:
    """FlatColumn.value_of() of each column."""
    return [getattr(instance, column.attribute) if column.plain else column.value_of(instance) for column in columns]


def _changed(instance: models.Model, columns, old_values: list) -> dict[str, tuple[str, str]]:
    """{column: (old text, new text)} of the columns whose text changed; the texts of equal values
    are not written (FlatColumn.same_value)."""
    changes = {}
    for column, old, new in zip(columns, old_values, _values(instance, columns)):
        if old == new if column.reference is None else column.same_value(old, new):
            continue
        old_text, new_text = column.text_of_value(old), column.text_of_value(new)
        if old_text != new_text:
            changes[column.name] = (old_text, new_text)
    return changes


KEY_COLUMNS = (RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE)
_LAYOUTS_KEPT = 64  # rows of a JSON file may each have other columns: the layouts kept are bounded
_NOT_CODED = object()


@cache
def _checkbox_groups(instrument: str) -> tuple[tuple[tuple[FlatColumn, ...], ...], ...]:
    """(option columns, code columns) of each checkbox field that takes a code among the columns of a
    row of `instrument` (RECORD_ROW: of the record row). Cached by the instrument's name: a key of
    the columns themselves was hashed field by field for every row."""
    groups: dict[str, tuple[list, list]] = {}
    for column in _own_columns(instrument).values():
        if column.checkbox_missing_attribute is not None:
            options, codes = groups.setdefault(column.checkbox_missing_attribute, ([], []))
            (codes if column.missing_code is not None else options).append(column)
    return tuple((tuple(options), tuple(codes)) for options, codes in groups.values())


@cache
def _apply_order(instrument: str) -> tuple[tuple[FlatColumn, str | None], ...]:
    """The columns of a row of `instrument` in the order _apply puts them on the instance, each with
    its attribute when it is plain (FlatColumn.plain: a value is set as it is), else None."""
    return tuple((column, column.attribute if column.plain else None) for column in _own_columns(instrument).values())


@cache
def _own_columns(instrument: str) -> dict[str, FlatColumn]:
    """The columns a row of `instrument` (RECORD_ROW: the record row's two forms) gives values of."""
    forms = RECORD_FORMS if instrument == RECORD_ROW else (instrument,)
    return {column.name: column for form in forms for column in form_columns(form)}


def _foreign_column_reason(form: str, instrument: str) -> str:
    if form in RECORD_FORMS:
        return f"belongs to the {form} form, whose values go on the record row (blank repeat instrument)"
    if instrument == RECORD_ROW:
        return f"belongs to the repeating instrument {form}, whose values go on its own rows, not on the record row"
    return f"belongs to the instrument {form}, not to {instrument}"


def _reference_phrase(column: FlatColumn) -> str:
    """'dated' for an instance named by its date, 'identified as' for a lesion named by its identifier."""
    key_field = column.reference.target._meta.get_field(column.reference.target_field)
    return "dated" if isinstance(key_field, models.DateField) else "identified as"
