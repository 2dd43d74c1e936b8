"""The audit trail as people read it: every recorded change to patients and their instruments, with
who made it, when, through which door (admin, import, api ...) and each changed field's old and new
value. Read by the admin's per-patient page and by both APIs' audit/log endpoints.

One query per history table (the patient and the seven repeating instruments) whatever the number
of changes; each change is diffed in Python against the previous historical row of the same object
(never `prev_record`, a query per row). Confirmations of values a soft check asked about
(SoftCheckConfirmation, one more query) are entries too: action "confirmed", the field with the value
confirmed, and the check's message as the entry's `note`.

Locks, unlocks, e-signatures and query transitions are entries too (issue 12 §5 and §2; three more
queries: the locks' history rows, the signatures' history rows, the query messages), read from the
history tables and the never-changed query thread so that they outlive a deleted record's rows:

    locked      who locked, when; the instrument and instance locked (blank instrument: the whole record)
    unlocked    who unlocked, when; `note` the reason given
    signed      who signed, when; `note` the meaning shown to the signer and the content hash signed
    query opened / responded / closed / reopened / commented
                the message's author and time; the query's target as instrument, instance and
                `note` ("query 7 on P-1 treatment_line #2 line_start: <the message>"), and, when the
                state moved, a change of "query_state" from the state before to the state after
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Max, Q

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, QueryMessage, QueryState, QueryTransition,
    RecordLock, RecordSignature, SoftCheckConfirmation, TreatmentLine, TumorAssessment,
)
from registry.records.dictionary import data_dictionary
from registry.records.instruments import INSTRUMENTS, column_owner, format_decimal
from registry.records.missing_codes import MISSING_SUFFIX
from registry.selectors.access import access_for

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
CONFIRMED = "confirmed"  # a value a soft check asked about, confirmed as correct
LOCKED, UNLOCKED, SIGNED = "locked", "unlocked", "signed"
# A query's transitions as actions: "query opened", "query responded", "query closed" ...
QUERY_ACTIONS = {transition.value: f"query {transition.label.lower()}" for transition in QueryTransition}
QUERY_STATE_CHANGE = ("query_state", "query state")  # the change a transition made: field name, label
# Bookkeeping columns that change on every save and say nothing a reader needs.
NOT_AUDITED = {"id", "updated_at"}
# Instruments in case report form order; the patient row holds two forms (enrollment, vital status).
REPEATING_MODELS = (TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant)
INSTRUMENT_OF_MODEL = {
    instrument.model: name for name, instrument in INSTRUMENTS.items() if instrument.repeating
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditEntry:
    when: datetime
    user: str
    door: str
    record_id: str
    instrument: str
    instance: int | None
    action: str  # created, changed, deleted, confirmed, locked, unlocked, signed, or one of QUERY_ACTIONS
    changes: tuple[FieldChange, ...]  # "changed": the fields whose value differs; "confirmed": the value;
    #                                   a query's transition: its state before and after
    note: str = ""  # "confirmed": what the soft check asked; "unlocked": the reason; "signed": the meaning
    #                 and the content hash; a query's: the query, its target and the message


def patient_form_of(field_name: str) -> str:
    """The REDCap form of a patient field (enrollment or vital_status)."""
    owners = column_owner()
    if field_name in owners:
        return owners[field_name][0]
    # A missing-data code belongs to its field's form (`death_date_missing`: vital_status).
    if field_name.endswith(MISSING_SUFFIX) and field_name.removesuffix(MISSING_SUFFIX) in owners:
        return owners[field_name.removesuffix(MISSING_SUFFIX)][0]
    if field_name.endswith(MISSING_SUFFIX) and field_name.removesuffix(MISSING_SUFFIX) in data_dictionary().by_name:
        return data_dictionary().field(field_name.removesuffix(MISSING_SUFFIX)).form  # a checkbox's code
    # Checkbox options are stored as `alk_method_1`, exported as `alk_method___1`.
    stem, _, code = field_name.rpartition("_")
    return owners[f"{stem}___{code}"][0]


class ValueLabels:
    """Writes stored values for people: coded values by their dictionary label, keys by what they name."""

    def __init__(self, names_by_model: dict[type, dict[int, str]]):
        self.names_by_model = names_by_model

    def __call__(self, field, value) -> str:
        if value is None or value == "":
            return "(blank)"
        if field.is_relation:
            name = self.names_by_model.get(field.related_model, {}).get(value)
            return name or f"#{value}"
        if field.choices:
            labels = dict(field.flatchoices)
            return f"{labels[value]} ({value})" if value in labels else str(value)
        if isinstance(value, bool):
            return "ticked" if value else "not ticked"
        if isinstance(value, Decimal):
            return format_decimal(value)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


def _audited_fields(model) -> list:
    return [field for field in model._meta.fields if field.name not in NOT_AUDITED]


def _user_name(row) -> str:
    return _user_name_of(row.history_user)


def _entries_of_model(model, rows, labels: ValueLabels, record_ids: dict[int, str]) -> list[AuditEntry]:
    """Rows of one history table, ordered by object then time, turned into entries with their diffs."""
    fields = _audited_fields(model)
    entries = []
    previous_by_object = {}
    for row in rows:
        previous = previous_by_object.get(row.id)
        previous_by_object[row.id] = row
        changes = ()
        if row.history_type == "~" and previous is not None:
            changes = tuple(
                FieldChange(
                    field=field.name,
                    label=str(field.verbose_name),
                    old=labels(field, getattr(previous, field.attname)),
                    new=labels(field, getattr(row, field.attname)),
                )
                for field in fields
                if getattr(previous, field.attname) != getattr(row, field.attname)
            )
        if model is Patient:
            forms = sorted({patient_form_of(change.field) for change in changes}) or ["enrollment"]
            instrument, instance = ", ".join(forms), None
        else:
            instrument, instance = INSTRUMENT_OF_MODEL[model], row.redcap_repeat_instance
        patient_id = row.id if model is Patient else row.patient_id
        entries.append(AuditEntry(
            when=row.history_date, user=_user_name(row), door=row.history_change_reason or "",
            record_id=record_ids.get(patient_id, ""),
            instrument=instrument, instance=instance, action=ACTIONS[row.history_type], changes=changes,
        ))
    return entries


def _confirmation_entries(rows, record_ids: dict[int, str]) -> list[AuditEntry]:
    fields = data_dictionary().by_name
    entries = []
    for row in rows:
        label = fields[row.field].label if row.field in fields else row.field
        entries.append(AuditEntry(
            when=row.confirmed_at, user=_user_name_of(row.confirmed_by), door=row.door,
            record_id=record_ids.get(row.patient_id, ""), instrument=row.form, instance=row.instance,
            action=CONFIRMED, changes=(FieldChange(field=row.field, label=label, old=row.value, new=row.value),),
            note=row.message,
        ))
    return entries


def _lock_entries(rows, record_ids: dict[int, str]) -> list[AuditEntry]:
    """A lock's history rows (ordered by lock, then time) as its "locked" entry (the row's creation) and
    its "unlocked" entry (the first change that stamped an unlock); the rows a deleted record's
    cascade wrote are not events of the lock."""
    entries, unlocked = [], set()
    for row in rows:
        where = {"record_id": record_ids.get(row.patient_id, ""), "instrument": row.form,
                 "instance": row.repeat_instance, "door": ""}
        if row.history_type == "+":
            entries.append(AuditEntry(when=row.locked_at, user=_user_name_of(row.locked_by), action=LOCKED,
                                      changes=(), note="" if row.form else "the whole record", **where))
        elif row.history_type == "~" and row.unlocked_at is not None and row.id not in unlocked:
            unlocked.add(row.id)
            entries.append(AuditEntry(when=row.unlocked_at, user=_user_name_of(row.unlocked_by), action=UNLOCKED,
                                      changes=(), note=row.unlock_reason, **where))
    return entries


def _signature_entries(rows, record_ids: dict[int, str]) -> list[AuditEntry]:
    return [
        AuditEntry(when=row.signed_at, user=_user_name_of(row.signed_by), door="",
                   record_id=record_ids.get(row.patient_id, ""), instrument="", instance=None, action=SIGNED,
                   changes=(), note=f"{row.meaning} (content SHA-256 {row.content_hash})")
        for row in rows
    ]


def _query_entries(messages, record_ids: dict[int, str]) -> list[AuditEntry]:
    """A query's messages (ordered by query, then time) as entries; the state before a message is the
    state the one before it left (a query is opened Open)."""
    entries, state_of = [], {}
    for message in messages:
        query = message.query
        before = state_of.get(query.pk)
        state_of[query.pk] = message.state_after
        changes = ()
        if before is not None and before != message.state_after:
            changes = (FieldChange(*QUERY_STATE_CHANGE, old=QueryState(before).label,
                                   new=QueryState(message.state_after).label),)
        target = " ".join(part for part in (
            record_ids.get(query.patient_id, ""),
            query.form if query.instance_number is None else f"{query.form} #{query.instance_number}",
            query.field) if part)
        entries.append(AuditEntry(
            when=message.created_at, user=_user_name_of(message.author), door="",
            record_id=record_ids.get(query.patient_id, ""), instrument=query.form, instance=query.instance_number,
            action=QUERY_ACTIONS[message.transition], changes=changes,
            note=f"query {query.pk} on {target}" + (f": {message.text}" if message.text else ""),
        ))
    return entries


def _user_name_of(user) -> str:
    return user.get_username() if user is not None else "(no user recorded)"


def patient_audit_trail(patient: Patient) -> list[AuditEntry]:
    """Every recorded change to the patient and its instruments, newest first (13 queries)."""
    return audit_trail(patient_ids=[patient.pk])


def audit_trail(
    *, patient_ids: Iterable[int] | None = None, record_ids: Iterable[str] | None = None, user=None,
    since: datetime | None = None, until: datetime | None = None, changed_by: str | None = None,
) -> list[AuditEntry]:
    """Recorded changes, newest first: of the given patients (ids, or record IDs, also of patients
    deleted since), made from `since` (inclusive) to `until` (exclusive), by the user named
    `changed_by`; only patients of the sites `user` may see (None: the system, every site). Thirteen
    queries: the patients in scope with their record IDs, one per history table, the soft-check
    confirmations, the locks' and the signatures' history rows and the query messages (each with
    its users).
    """
    patient_rows = Patient.history.all()
    if user is not None:
        access = access_for(user)
        if not access.sees_all_sites:
            patient_rows = patient_rows.filter(site_id__in=access.site_ids)
    if patient_ids is not None:
        patient_rows = patient_rows.filter(id__in=list(patient_ids))
    if record_ids is not None:
        # Historical rows keep the record ID, so a deleted patient's changes are still found.
        wanted = list(record_ids)
        patient_rows = patient_rows.filter(id__in=Patient.history.filter(record_id__in=wanted).values("id"))
    # Which patients are in scope is decided on all their history rows; the time and user filters
    # only choose which changes are listed.
    # One query: each patient in scope and its latest record ID.
    record_id_of = dict(patient_rows.order_by("history_date", "history_id").values_list("id", "record_id"))
    scope_ids = sorted(record_id_of)

    def in_time(rows):
        """The rows up to `until`, from `since` on, plus each listed object's row just before `since`
        (what its first listed change is diffed against); still one query."""
        if until is not None:
            rows = rows.filter(history_date__lt=until)
        if since is not None:
            listed = rows.filter(history_date__gte=since)
            previous = (rows.filter(history_date__lt=since, id__in=listed.values("id")).order_by()
                        .values("id").annotate(last=Max("history_id")).values("last"))
            rows = rows.filter(Q(history_date__gte=since) | Q(history_id__in=previous))
        return rows.select_related("history_user").order_by("id", "history_date", "history_id")

    rows_by_model = {Patient: list(in_time(Patient.history.filter(id__in=scope_ids)))}
    for model in REPEATING_MODELS:
        rows_by_model[model] = list(in_time(model.history.filter(patient_id__in=scope_ids)))
    # What a measurement's or variant's keys name, from the latest history row of each target.
    names_by_model = {
        Patient: record_id_of,
        TumorAssessment: {row.id: f"assessment {row.ta_date:%Y-%m-%d}" for row in rows_by_model[TumorAssessment]},
        Lesion: {row.id: row.les_id for row in rows_by_model[Lesion]},
        Biopsy: {row.id: f"biopsy {row.bx_date:%Y-%m-%d}" for row in rows_by_model[Biopsy]},
    }
    labels = ValueLabels(names_by_model)
    entries = [
        entry for model, rows in rows_by_model.items() for entry in _entries_of_model(model, rows, labels, record_id_of)
        if _entry_matches(entry, since, until, changed_by)  # the rows read only for a diff are not listed
    ]
    confirmations = SoftCheckConfirmation.objects.filter(patient_id__in=scope_ids).select_related("confirmed_by")
    if since is not None:
        confirmations = confirmations.filter(confirmed_at__gte=since)
    if until is not None:
        confirmations = confirmations.filter(confirmed_at__lt=until)
    entries += [entry for entry in _confirmation_entries(confirmations.order_by("confirmed_at", "pk"), record_id_of)
                if _entry_matches(entry, since, until, changed_by)]
    # Locks, signatures and query messages: few per record, read whole for the records in scope and
    # chosen by time here (a message's state before is the one its predecessor left, even before `since`).
    locks = RecordLock.history.filter(patient_id__in=scope_ids).select_related("locked_by", "unlocked_by")
    signatures = RecordSignature.history.filter(patient_id__in=scope_ids, history_type="+").select_related("signed_by")
    messages = QueryMessage.objects.filter(query__patient_id__in=scope_ids).select_related("author", "query")
    if until is not None:  # nothing after `until` is listed, nor needed for a state before
        messages = messages.filter(created_at__lt=until)
    events = [
        *_lock_entries(locks.order_by("id", "history_date", "history_id"), record_id_of),
        *_signature_entries(signatures.order_by("signed_at", "history_id"), record_id_of),
        *_query_entries(messages.order_by("query_id", "created_at", "id"), record_id_of),
    ]
    entries += [entry for entry in events if _entry_matches(entry, since, until, changed_by)]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


def _entry_matches(entry: AuditEntry, since, until, changed_by) -> bool:
    return ((since is None or entry.when >= since) and (until is None or entry.when < until)
            and (changed_by is None or entry.user == changed_by))
