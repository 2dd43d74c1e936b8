"""Per-instrument spreadsheets (CSV and Excel) for import and export through django-import-export.

A laboratory sends a list of NGS variants, a site sends a vital-status update: files holding one
instrument's columns, named as in the data dictionary. Every cell is read with the codec of the REDCap
flat importer (registry/records/instruments.py), so a value refused there is refused here in the same
words, and then each row is checked with the model's `full_clean()`.

A file is imported completely or not at all: `import_data` always runs in one transaction and rolls
it back when any row has an error. `spreadsheet_problems(result)` lists what was wrong, row by row.

Access: constructed with `user=None` (command line, system) a resource sees and changes everything;
with a user it exports only what that user may see and imports only into patients that user may
change (registry/selectors/access.py).
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from import_export import widgets
from import_export.fields import Field
from import_export.resources import ModelResource

from registry.derive.biopsies import normalise_protein_change
from registry.models import Biopsy, NgsVariant, Patient
from registry.selectors.access import restrict_to_changeable, restrict_to_visible
from registry.services.instances import instance_write, records_lock, records_written
from registry.services.locks import RecordLocked, locked_data_refuse
from registry.selectors.locks import record_locks
from registry.services.soft_checks import written_warnings

from .dictionary import data_dictionary
from .instruments import RECORD_ID, InvalidValue, column_owner, format_decimal, format_value, parse_value
from .missing_codes import Coded, cell_value, is_missing_code, missing_column, missing_data_codes
from .spreadsheet_formats import StyleFreeDiff

SPREADSHEET_CHANGE_REASON = "spreadsheet import"

# Row number of problems with the file as a whole (its header); data rows count from 1, as
# django-import-export numbers them in the admin.
FILE_ROW = 0

# import-export's placeholder, in `InvalidRow.values`, for a column the file does not have.
_ABSENT = "---"


def cell_text(value) -> str:
    """A cell as the text a CSV file would hold: Excel hands over dates and numbers as objects.

    A date cell arrives as a datetime at midnight (→ "2022-01-25"); a number typed in Excel as a
    float (1.0 → "1", 12.5 → "12.5"). A datetime with a time of day is kept whole so that the date
    codec refuses it rather than silently dropping the time.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        # repr() is the shortest text that reads back as the same float; Decimal avoids "1e-05".
        return format_decimal(Decimal(repr(value)))
    if isinstance(value, (bool, date, Decimal, int)):
        return format_value(value)
    return str(value).strip()


def _blank_value(model_field: models.Field):
    """What a blank cell stores: the file is the full truth for its columns, so blank clears.

    NULL where the field allows it, else the field's default ("" for text; Incomplete for a repeating
    form's `_complete`, which cannot be NULL), else None so that `full_clean()` reports the missing value.
    """
    if model_field.null:
        return None
    if model_field.has_default():
        return model_field.get_default()
    return None


class DictionaryCellWidget(widgets.Widget):
    """One data-dictionary column: file text ↔ stored value, through the REDCap flat-format codec."""

    def __init__(self, column: str, *, blank=None, codable: bool = False):
        super().__init__(coerce_to_string=True)
        self.column = column
        self.blank = blank
        self.codable = codable  # takes a missing-data code instead of a value (issue 12 §4)
        # column_owner() knows every flat column but record_id; its dictionary field is None for
        # `<form>_complete`, which is what parse_value expects for a record status.
        owner = column_owner().get(column)
        self.dictionary_field = owner[1] if owner else data_dictionary().field(column)

    def clean(self, value, row=None, **kwargs):
        """The stored value of one cell; raises InvalidValue saying the value and the reason."""
        raw = cell_text(value)
        if raw == "":
            return self.blank
        if is_missing_code(raw):
            if self.codable:
                return Coded(raw)
            raise InvalidValue(
                f'"{raw}" is a missing-data code ({raw} {missing_data_codes()[raw].lower()}), but {self.column} '
                "takes none (it identifies or dates a record, or is a checkbox option or status)"
            )
        try:
            return parse_value(self.dictionary_field, raw)
        except InvalidValue as reason:
            raise InvalidValue(f'"{raw}" {reason}') from None

    def render(self, value, obj=None, **kwargs):
        # Always text, also for Excel: raw codes and shortest decimals, exactly as a REDCap raw
        # export writes them, so that an exported file re-imports unchanged.
        return format_value(value)


def _column(model: type[models.Model], name: str, *, attribute: str | None = None, lookup: bool = False) -> Field:
    """A resource field for dictionary column `name`.

    `lookup` columns name the row's patient or biopsy: they are read to find the instance and never
    written to it (import-export's `readonly`).
    """
    attribute = attribute or name
    blank = None if "__" in attribute else _blank_value(model._meta.get_field(attribute))
    if "__" not in attribute and getattr(model._meta.get_field(attribute), "takes_missing_code", False):
        return CodableColumn(
            attribute=attribute, column_name=name, widget=DictionaryCellWidget(name, blank=blank, codable=True),
            readonly=lookup,
        )
    return Field(
        attribute=attribute, column_name=name, widget=DictionaryCellWidget(name, blank=blank), readonly=lookup,
    )


class CodableColumn(Field):
    """A column whose field takes a missing-data code: it exports the code in the cell, and writes a
    cell's code to the companion `<field>_missing` (a value clears the code)."""

    @property
    def missing_attribute(self) -> str:
        return missing_column(self.attribute)

    def get_value(self, instance):
        return cell_value(instance, self.attribute)

    def set_value(self, instance, value) -> None:
        if isinstance(value, Coded):
            setattr(instance, self.attribute, self.widget.blank)
            setattr(instance, self.missing_attribute, value.code)
        else:
            setattr(instance, self.attribute, value)
            setattr(instance, self.missing_attribute, "")


def _attributes(resource_field: Field) -> list[str]:
    if isinstance(resource_field, CodableColumn):
        return [resource_field.attribute, resource_field.missing_attribute]
    return [resource_field.attribute]


class SpreadsheetColumnsError(ValueError):
    """The file's header is wrong; `problems` are (column, reason) pairs, one per wrong column."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{column}: {reason}" for column, reason in problems))
        self.problems = problems


@dataclass
class ParsedRow:
    """One data row read through the codecs, before it is matched to an instance."""

    number: int
    values: dict[str, object]  # column → stored value, for the columns the file has
    errors: dict[str, list[str]]  # column (or NON_FIELD_ERRORS) → reasons
    blank: bool  # every cell empty: a trailing Excel row, skipped
    identified: bool = False  # the instance it is about was found, or numbered if new


class InstrumentSpreadsheetResource(ModelResource):
    """What the instrument spreadsheets share: codecs, access, all-or-nothing import, audit trail.

    Subclasses declare their columns and `required_columns`, and implement `_prefetch` and `_identify`.
    """

    # Columns the header must have: those that say which instance a row is.
    required_columns: tuple[str, ...] = (RECORD_ID,)
    # full_clean() error keys that are not column names → the column the person should fix.
    attribute_columns: dict[str, str] = {}

    def __init__(self, *, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_diff_class(self):
        # The admin's import preview, without the inline styles the Content-Security-Policy refuses.
        return StyleFreeDiff

    # ------------------------------------------------------------------ access

    def _changeable_patients(self, record_ids) -> dict[str, Patient]:
        """The patients named in the file that the importing user may change; one query."""
        queryset = Patient.objects.filter(record_id__in=record_ids)
        if self._importing_user is not None:
            queryset = restrict_to_changeable(queryset, self._importing_user, site_path="site_id")
        return {patient.record_id: patient for patient in queryset}

    def _patient_named(self, parsed: ParsedRow) -> Patient | None:
        """The row's patient, or None with the reason added to the row's errors."""
        if RECORD_ID in parsed.errors:
            return None
        record = parsed.values.get(RECORD_ID)
        if record is None:
            parsed.errors[RECORD_ID] = ["a record ID is required to say which patient the row is about"]
            return None
        patient = self._patients.get(record)
        if patient is None:
            # One message for "no such record" and "another site's record": a coordinator must not
            # learn which record IDs other sites use.
            parsed.errors[RECORD_ID] = [f"record {record} does not exist or is not at a site you can change"]
        return patient

    # ------------------------------------------------------------------ import

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        """Import `dataset` in one transaction, kept only if every row is valid (and not a dry run).

        Transactions and the rollback on validation errors are forced whatever the caller asks:
        a half-imported laboratory file is worse than none. The records the file names are locked
        first (before_import) and the side effects of the writes (re-derivation, version bump) are
        made in the same transaction, by the services every door writes through.
        """
        with transaction.atomic():
            result = super().import_data(
                dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
                collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs,
            )
            if not (dry_run or result.has_errors() or result.has_validation_errors()):
                records_written(*self._saved_instances)
        return result

    def before_import(self, dataset, **kwargs):
        # The admin also passes the requesting user to import_data(); honour it when the constructor
        # was given none, so a forgotten constructor argument narrows access instead of lifting it.
        self._importing_user = self.user if self.user is not None else kwargs.get("user")
        headers = list(dataset.headers or [])
        self._file_columns = {header for header in headers if header in self.fields}
        self._row: ParsedRow | None = None
        self._seen: dict[object, int] = {}  # a row's identity → the first row number that had it
        self._saved_instances: list[models.Model] = []
        record_ids = set()
        if RECORD_ID in headers:
            record_ids = {cell_text(value) for value in dataset[RECORD_ID]} - {""}
        self._patients = self._changeable_patients(record_ids)
        # Locked before their instances are read: no other door writes them until this import ends,
        # so the instance numbers and unique checks worked out from the prefetch stay true.
        records_lock(patient.pk for patient in self._patients.values())
        # The locks in force on them, read once under that lock: a row changing locked data is refused.
        self._locks = record_locks(patient.pk for patient in self._patients.values())
        self._prefetch()
        # Checked after the prefetch: import-export still reads every row after a failed
        # before_import, and each row's own problems are worth listing with the header's.
        problems = self._header_problems(dataset, headers)
        if problems:
            raise SpreadsheetColumnsError(problems)

    def _header_problems(self, dataset, headers: list) -> list[tuple[str, str]]:
        expected = ", ".join(self.get_export_headers())
        problems = []
        for index, header in enumerate(headers):
            if header in (None, ""):
                # Excel often reports formatted but empty columns; only a nameless column with data is wrong.
                if any(cell_text(row[index]) for row in dataset):
                    problems.append(("", f"a column without a name holds data (the columns are {expected})"))
            elif header not in self.fields:
                reason = f'"{header}" is not a column of this spreadsheet (the columns are {expected})'
                problems.append((str(header), reason))
            elif headers.count(header) > 1 and headers.index(header) == index:
                problems.append((header, f'the column "{header}" appears {headers.count(header)} times'))
        for column in self.required_columns:
            if column not in headers:
                problems.append((column, f'the column "{column}" is required'))
        return problems

    def before_import_row(self, row, **kwargs):
        values, errors = {}, {}
        for column, resource_field in self.fields.items():
            if column not in row:
                continue
            try:
                values[column] = resource_field.widget.clean(row[column])
            except InvalidValue as problem:
                errors[column] = [str(problem)]
        blank = all(cell_text(value) == "" for value in row.values())
        self._row = ParsedRow(number=kwargs["row_number"], values=values, errors=errors, blank=blank)

    def get_or_init_instance(self, instance_loader, row):
        """Find the row's instance from the prefetched records (never a query per row)."""
        if self._row.blank:
            return self._meta.model(), True
        return self._identify(self._row)

    def import_instance(self, instance, row, **kwargs):
        parsed = self._row
        for column, value in parsed.values.items():
            resource_field = self.fields[column]
            if isinstance(resource_field, CodableColumn):
                resource_field.set_value(instance, value)
            elif not resource_field.readonly:
                setattr(instance, resource_field.attribute, value)
        if parsed.errors:
            raise ValidationError(parsed.errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self._row.blank:
            return True
        # Unchanged rows are skipped, so re-importing a file writes no history rows.
        return super().skip_row(instance, original, row, import_validation_errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Cell errors plus `full_clean()` (the model's cross-field rules), keyed by column."""
        errors = {column: list(messages) for column, messages in (import_validation_errors or {}).items()}
        if self._row.identified:
            try:
                instance.full_clean(exclude=set(errors), validate_unique=validate_unique)
            except ValidationError as invalid:
                for key, messages in invalid.message_dict.items():
                    errors.setdefault(self.attribute_columns.get(key, key), []).extend(messages)
            try:  # unchanged rows were skipped before this: only a change is refused
                locked_data_refuse(saved=[instance], locks=self._locks)
            except RecordLocked as locked:
                errors.setdefault(RECORD_ID, []).append(str(locked))
        # An unidentified row is not cleaned: its placeholder lacks the record, biopsy or instance
        # number the model's rules need (a death date is checked against the stored birth date), so
        # cleaning it would only add noise to the problem already reported.
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset, result, **kwargs):
        """The soft checks of what the file wrote, as `result.soft_check_warnings` (the same checks and
        shape as every door: registry/records/soft_checks.py); read here, in import-export's
        transaction, so that a dry run (the admin's preview) has them too."""
        super().after_import(dataset, result, **kwargs)
        result.soft_check_warnings = []
        if result.has_errors() or result.has_validation_errors():
            return
        written: dict[type, list[int]] = {}
        for instance in self._saved_instances:
            written.setdefault(type(instance), []).append(instance.pk)
        result.soft_check_warnings = written_warnings(written)

    def after_save_instance(self, instance, row, **kwargs):
        self._saved_instances.append(instance)

    def do_instance_save(self, instance, is_create):
        # The importing user (in the admin, the history middleware's request user when none was
        # given) and the door go to the history row.
        if is_create:
            instance_write(instance, user=self._importing_user, door=SPREADSHEET_CHANGE_REASON, force_insert=True)
            return
        # Write only the file's columns: the row was read under the record's lock, but the file
        # is the truth for its own columns only.
        written = [
            attribute for column, resource_field in self.fields.items()
            if column in self._file_columns and not resource_field.readonly for attribute in _attributes(resource_field)
        ]
        instance_write(instance, user=self._importing_user, door=SPREADSHEET_CHANGE_REASON,
                       update_fields=[*written, "updated_at"])

    # ------------------------------------------------------------------ export

    def filter_export(self, queryset, **kwargs):
        if self.user is not None:
            queryset = restrict_to_visible(queryset, self.user, site_path=self.export_site_path)
        return queryset

    # ------------------------------------------------------------------ subclass hooks

    export_site_path = "site_id"

    def _prefetch(self) -> None:
        """Load what rows will be matched against (after self._patients is set)."""

    def _identify(self, parsed: ParsedRow) -> tuple[models.Model, bool]:
        """(instance, is new) for the row; adds identity errors to `parsed.errors`.

        Sets `parsed.identified` once the instance is known: only then is it worth `full_clean()`.
        """
        raise NotImplementedError


# ---------------------------------------------------------------------------- NGS variants

def _coded_or(normalise, value):
    return value if isinstance(value, Coded) else normalise(value)


def _gene_key(text: str) -> str:
    # HGNC symbols are upper case; "alk" typed by hand is still ALK.
    return text.strip().upper()


class NgsVariantResource(InstrumentSpreadsheetResource):
    """The `ngs_variant` instrument, one row per variant; a row names its biopsy by `var_bx_date`.

    A row updates the variant of that biopsy with the same gene, kind and (normalised) protein
    change and partner, or adds a new one with the patient's next free instance number. Variants
    absent from the file are left alone: a laboratory list covers only the biopsies it reports.
    """

    record_id = _column(NgsVariant, RECORD_ID, attribute="patient__record_id", lookup=True)
    var_bx_date = _column(NgsVariant, "var_bx_date", attribute="biopsy__bx_date", lookup=True)
    var_gene = _column(NgsVariant, "var_gene")
    var_kind = _column(NgsVariant, "var_kind")
    var_protein = _column(NgsVariant, "var_protein")
    var_vaf = _column(NgsVariant, "var_vaf")
    var_cn = _column(NgsVariant, "var_cn")
    var_partner = _column(NgsVariant, "var_partner")
    ngs_variant_complete = _column(NgsVariant, "ngs_variant_complete")

    required_columns = (RECORD_ID, "var_bx_date", "var_gene", "var_kind", "var_protein", "var_partner")
    attribute_columns = {"patient": RECORD_ID, "biopsy": "var_bx_date"}
    export_site_path = "patient__site_id"

    class Meta:
        model = NgsVariant
        fields = (
            "record_id", "var_bx_date", "var_gene", "var_kind", "var_protein", "var_vaf", "var_cn",
            "var_partner", "ngs_variant_complete",
        )
        import_id_fields = ("record_id", "var_bx_date", "var_gene", "var_kind", "var_protein", "var_partner")
        skip_unchanged = True
        report_skipped = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("patient", "biopsy")

    @staticmethod
    def _identity(biopsy: Biopsy, gene: str, kind, protein: str, partner: str) -> tuple:
        # The derivations' own normalisation (§7), so that what the import treats as one variant is
        # what the resistance analysis counts as one.
        # A missing-data code (issue 12 §4) is its own part of the identity: "UNK" is not the gene UNK.
        return (biopsy.pk, _coded_or(_gene_key, gene), kind, _coded_or(normalise_protein_change, protein),
                _coded_or(_gene_key, partner))

    def _prefetch(self) -> None:
        patients = list(self._patients.values())
        self._biopsies = {
            (biopsy.patient_id, biopsy.bx_date): biopsy
            for biopsy in Biopsy.objects.filter(patient__in=patients)
        }
        biopsies_by_id = {biopsy.pk: biopsy for biopsy in self._biopsies.values()}
        patients_by_id = {patient.pk: patient for patient in patients}
        self._variants: dict[tuple, NgsVariant] = {}
        self._last_instance: dict[int, int] = {}
        for variant in NgsVariant.objects.filter(patient__in=patients).order_by("redcap_repeat_instance"):
            # Attach the already loaded patient and biopsy, so clean() and the diff need no query.
            variant.patient = patients_by_id[variant.patient_id]
            variant.biopsy = biopsies_by_id[variant.biopsy_id]
            key = self._identity(variant.biopsy, *(cell_value(variant, name) for name in (
                "var_gene", "var_kind", "var_protein", "var_partner")))
            self._variants.setdefault(key, variant)  # duplicates already stored: update the first
            self._last_instance[variant.patient_id] = variant.redcap_repeat_instance

    def _identify(self, parsed: ParsedRow) -> tuple[NgsVariant, bool]:
        patient = self._patient_named(parsed)
        if patient is None:
            return NgsVariant(), True
        if "var_bx_date" in parsed.errors:
            return NgsVariant(patient=patient), True
        bx_date = parsed.values.get("var_bx_date")
        if bx_date is None:
            parsed.errors["var_bx_date"] = [
                "the date of the biopsy is required to say which biopsy the variant is from"
            ]
            return NgsVariant(patient=patient), True
        biopsy = self._biopsies.get((patient.pk, bx_date))
        if biopsy is None:
            parsed.errors["var_bx_date"] = [f"no biopsy of this patient is dated {bx_date:%Y-%m-%d}"]
            return NgsVariant(patient=patient), True
        if any(column in parsed.errors for column in self.required_columns):
            # Which variant it is cannot be told; the row is invalid anyway, so no number is taken.
            return NgsVariant(patient=patient, biopsy=biopsy), True
        # A missing identity column is already a file error; reading it as blank lets the row be checked.
        values = parsed.values
        key = self._identity(biopsy, values.get("var_gene", ""), values.get("var_kind"),
                             values.get("var_protein", ""), values.get("var_partner", ""))
        if key in self._seen:
            parsed.errors[NON_FIELD_ERRORS] = [
                f"the same variant of the biopsy dated {bx_date:%Y-%m-%d} is also in row {self._seen[key]} "
                "of this file"
            ]
            return NgsVariant(patient=patient, biopsy=biopsy), True
        self._seen[key] = parsed.number
        parsed.identified = True
        existing = self._variants.get(key)
        if existing is not None:
            return existing, False
        # REDCap numbers a record's instances 1, 2, ...: the next is one past the highest, counting
        # the new variants of earlier rows of this file.
        instance_number = self._last_instance.get(patient.pk, 0) + 1
        self._last_instance[patient.pk] = instance_number
        return NgsVariant(patient=patient, biopsy=biopsy, redcap_repeat_instance=instance_number), True


# ---------------------------------------------------------------------------- vital status

class VitalStatusResource(InstrumentSpreadsheetResource):
    """The `vital_status` form of existing patients, one row per patient; never creates a patient."""

    record_id = _column(Patient, RECORD_ID, lookup=True)
    last_alive_date = _column(Patient, "last_alive_date")
    vital = _column(Patient, "vital")
    death_date = _column(Patient, "death_date")
    death_cause = _column(Patient, "death_cause")
    vital_status_complete = _column(Patient, "vital_status_complete")

    required_columns = (RECORD_ID,)

    class Meta:
        model = Patient
        fields = ("record_id", "last_alive_date", "vital", "death_date", "death_cause", "vital_status_complete")
        import_id_fields = ("record_id",)
        skip_unchanged = True
        report_skipped = True

    def _identify(self, parsed: ParsedRow) -> tuple[Patient, bool]:
        patient = self._patient_named(parsed)
        if patient is None:
            # A placeholder that is never saved: the row has an error, so it is invalid.
            return Patient(), True
        if patient.pk in self._seen:
            parsed.errors[RECORD_ID] = [
                f"record {patient.record_id} is also in row {self._seen[patient.pk]} of this file"
            ]
            return Patient(), True
        self._seen[patient.pk] = parsed.number
        parsed.identified = True
        return patient, False


# ---------------------------------------------------------------------------- problems

def spreadsheet_problems(result) -> list[tuple[int, str, str, str, str]]:
    """Every problem of an import result as (row number, record, field, value, reason), by row.

    Row 0 is the file's header; data rows count from 1 as in the admin. `field` is the column
    ("" for a problem of the whole row), `value` the cell's text.
    """
    problems: list[tuple[int, str, str, str, str]] = []
    for error in result.base_errors:
        if isinstance(error.error, SpreadsheetColumnsError):
            problems.extend((FILE_ROW, "", column, "", reason) for column, reason in error.error.problems)
        else:
            problems.append((FILE_ROW, "", "", "", str(error.error)))
    for error_row in result.error_rows:
        for error in error_row.errors:
            record = cell_text((error.row or {}).get(RECORD_ID))
            problems.append((error_row.number, record, "", "", str(error.error)))
    for invalid in result.invalid_rows:
        cells = dict(zip(result.diff_headers, invalid.values))
        record = cell_text(cells.get(RECORD_ID))
        for key, messages in invalid.error_dict.items():
            column = "" if key == NON_FIELD_ERRORS else key
            value = cells.get(column)
            value = "" if value == _ABSENT else cell_text(value)
            problems.extend((invalid.number, record, column, value, message) for message in messages)
    problems.sort(key=lambda problem: problem[0])
    return problems
