"""Every write of a query (registry/models/queries.py): open, respond, close, reopen, comment.

Each function is one transaction that checks the user's right with the one access rule
(registry/selectors/access.py), checks the transition is legal, changes the query's state and adds
the message recording who made which transition when. A refusal raises before anything is written:

- `QueryNotAllowed` (a PermissionDenied): the user lacks the capability for the record's site;
- `QueryInvalid` (a ValidationError): the query's target does not exist in the record, the text is
  missing, or the transition is not one the query's state allows.

Who may do what:
    open     Capability.OPEN_QUERY on the record's site (data managers, investigators, administrators)
    respond  Capability.RESPOND_QUERY on the record's site (its coordinators, administrators)
    close    Capability.CLOSE_QUERY on the site (data managers, administrators), or the query's opener
    reopen   the same as close
    comment  anyone who may open, respond to or close the query (a note in the thread, no transition)

and one transition the system makes: `queries_close_on_deletion`, called by the services that delete
instances or records (instances.py, record_writes.py, records.py), closes the open and responded
queries about what is deleted, with a message saying what was deleted, by whom and why.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from registry.models import Patient, Query, QueryMessage, QueryState, QueryTransition
from registry.models.queries import UNRESOLVED_STATES
from registry.records.dictionary import data_dictionary
from registry.records.instruments import INSTRUMENTS, RECORD_ID
from registry.selectors.access import Capability, access_for
from registry.services.locks import DEPENDANTS, FORM_OF_MODEL

TEXT_MAX_LENGTH = 5000


class QueryNotAllowed(PermissionDenied):
    """The user may not make this transition on this record's queries."""


class QueryInvalid(ValidationError):
    """The query's target or text is not valid, or its state does not allow the transition."""


# Which states each transition starts from, and the state it leaves.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    QueryTransition.RESPOND: ((QueryState.OPEN,), QueryState.RESPONDED),
    QueryTransition.CLOSE: ((QueryState.OPEN, QueryState.RESPONDED), QueryState.CLOSED),
    QueryTransition.REOPEN: ((QueryState.CLOSED,), QueryState.OPEN),
}


def may_open(user, patient: Patient) -> bool:
    return access_for(user).can(Capability.OPEN_QUERY, patient.site_id)


def may_respond(user, query: Query) -> bool:
    return access_for(user).can(Capability.RESPOND_QUERY, query.patient.site_id)


def may_close(user, query: Query) -> bool:
    """Data managers and administrators, and whoever opened the query (while they still see its site)."""
    access = access_for(user)
    if access.can(Capability.CLOSE_QUERY, query.patient.site_id):
        return True
    return query.opened_by_id == getattr(user, "pk", None) and access.can_see_site(query.patient.site_id)


def may_comment(user, query: Query) -> bool:
    return may_open(user, query.patient) or may_respond(user, query) or may_close(user, query)


def allowed_transitions(user, query: Query) -> list[str]:
    """The transitions `user` may make on `query` in its present state (the buttons a page shows)."""
    allowed = []
    if query.state in TRANSITIONS[QueryTransition.RESPOND][0] and may_respond(user, query):
        allowed.append(QueryTransition.RESPOND)
    if query.state in TRANSITIONS[QueryTransition.CLOSE][0] and may_close(user, query):
        allowed.append(QueryTransition.CLOSE)
    if query.state in TRANSITIONS[QueryTransition.REOPEN][0] and may_close(user, query):
        allowed.append(QueryTransition.REOPEN)
    if may_comment(user, query):
        allowed.append(QueryTransition.COMMENT)
    return allowed


def _text(text: str, *, required: bool, record_id: str) -> str:
    text = (text or "").strip()
    if required and not text:
        raise QueryInvalid({"text": f"Record {record_id}: say what the query is about (the text is empty)."})
    if len(text) > TEXT_MAX_LENGTH:
        raise QueryInvalid({"text": f"Record {record_id}: the text has {len(text)} characters; "
                                    f"at most {TEXT_MAX_LENGTH} are kept."})
    if "\x00" in text:
        raise QueryInvalid({"text": f"Record {record_id}: the text holds a NUL character."})
    return text


def validate_target(*, patient: Patient, form: str, instance: int | None, field: str) -> None:
    """That the form, instance and field exist in the record. Preconditions: none; raises QueryInvalid
    naming the record, the value and the reason."""
    record = patient.record_id
    if not form:
        if instance is not None:
            raise QueryInvalid({"instance": f"Record {record}: instance {instance} needs an instrument."})
        if field:
            raise QueryInvalid({"field": f"Record {record}: field {field!r} needs its instrument."})
        return
    instrument = INSTRUMENTS.get(form)
    if instrument is None:
        raise QueryInvalid({"form": f"Record {record}: {form!r} is not an instrument of the registry "
                                    f"(one of {', '.join(INSTRUMENTS)})."})
    if instrument.repeating:
        if instance is None:
            raise QueryInvalid({"instance": f"Record {record}: {form} repeats; say which instance."})
        if not instrument.model.objects.filter(patient=patient, redcap_repeat_instance=instance).exists():
            raise QueryInvalid({"instance": f"Record {record} has no instance {instance} of {form}."})
    elif instance is not None:
        raise QueryInvalid({"instance": f"Record {record}: {form} does not repeat; it has no instance {instance}."})
    if field:
        names = {entry.name for entry in data_dictionary().form_fields(form)} - {RECORD_ID}
        if field not in names:
            raise QueryInvalid({"field": f"Record {record}: {field!r} is not a field of the instrument {form}."})


@transaction.atomic
def query_open(*, patient: Patient, user, text: str, form: str = "", instance: int | None = None,
               field: str = "") -> Query:
    """Opens a query on the record, or on one instance (`form`, `instance`) or field of it."""
    if not may_open(user, patient):
        raise QueryNotAllowed(f"Record {patient.record_id}: your role may not open queries on this site's records.")
    text = _text(text, required=True, record_id=patient.record_id)
    validate_target(patient=patient, form=form or "", instance=instance, field=field or "")
    now = timezone.now()
    query = Query(patient=patient, form=form or "", instance_number=instance, field=field or "",
                  state=QueryState.OPEN, opened_by=user, opened_at=now, updated_at=now)
    query.full_clean()
    query._history_user = user  # the history row names who made the change, whatever the door
    query.save()
    QueryMessage.objects.create(query=query, author=user, created_at=now, text=text,
                                transition=QueryTransition.OPEN, state_after=QueryState.OPEN)
    return query


def _locked(query: Query) -> Query:
    """The query row again, locked for this transaction: two transitions at once are made one after the
    other, the second seeing the state the first left."""
    return Query.objects.select_for_update().select_related("patient").get(pk=query.pk)


VERBS = {QueryTransition.RESPOND: "answer", QueryTransition.CLOSE: "close", QueryTransition.REOPEN: "reopen",
         QueryTransition.COMMENT: "comment on"}


def _transition(*, query: Query, user, text: str, transition: str, allowed: bool, text_required: bool) -> Query:
    query = _locked(query)
    record = query.patient.record_id
    if not allowed(user, query):
        raise QueryNotAllowed(f"Query {query.pk} on record {record}: your role may not {VERBS[transition]} it.")
    text = _text(text, required=text_required, record_id=record)
    now = timezone.now()
    state_after = query.state
    if transition != QueryTransition.COMMENT:
        sources, state_after = TRANSITIONS[transition]
        if query.state not in sources:
            raise QueryInvalid({"state": f"Query {query.pk} on record {record} is {query.get_state_display()}: "
                                         f"it cannot be {QueryTransition(transition).label.lower()} "
                                         f"(only a query that is {' or '.join(QueryState(s).label for s in sources)})."})
        query.state = state_after
        query.closed_at = now if state_after == QueryState.CLOSED else None
    query.updated_at = now
    query._history_user = user
    query.save(update_fields=["state", "closed_at", "updated_at"])
    QueryMessage.objects.create(query=query, author=user, created_at=now, text=text, transition=transition,
                                state_after=state_after)
    return query


@transaction.atomic
def query_respond(*, query: Query, user, text: str) -> Query:
    """The site's answer: Open → Responded. The text is required."""
    return _transition(query=query, user=user, text=text, transition=QueryTransition.RESPOND,
                       allowed=may_respond, text_required=True)


@transaction.atomic
def query_close(*, query: Query, user, text: str = "") -> Query:
    """Open or Responded → Closed, by a data manager, an administrator or the query's opener."""
    return _transition(query=query, user=user, text=text, transition=QueryTransition.CLOSE,
                       allowed=may_close, text_required=False)


@transaction.atomic
def query_reopen(*, query: Query, user, text: str) -> Query:
    """Closed → Open, by those who may close it; the text says what is still wrong."""
    return _transition(query=query, user=user, text=text, transition=QueryTransition.REOPEN,
                       allowed=may_close, text_required=True)


@transaction.atomic
def query_comment(*, query: Query, user, text: str) -> Query:
    """A message in the thread that changes no state."""
    return _transition(query=query, user=user, text=text, transition=QueryTransition.COMMENT,
                       allowed=may_comment, text_required=True)


SERVICES = {
    QueryTransition.RESPOND: query_respond, QueryTransition.CLOSE: query_close,
    QueryTransition.REOPEN: query_reopen, QueryTransition.COMMENT: query_comment,
}


# ---------------------------------------------------------------- the system's close, on a deletion

def queries_close_on_deletion(*, deleted: Iterable[Model], user, door: str) -> list[Query]:
    """Closes the open and responded queries about what `deleted` removes: a patient's every query, an
    instance's queries (on it or on a field of it), and those on the measurements or variants the
    database deletes with a scan, lesion or biopsy. Each gets a Close message by `user` (who deleted;
    the query's opener when the system deleted without a user), saying it was closed by the system,
    what was deleted, by whom and through which door (with the reason given there), and a history row.

    Must run in the deleting transaction, before the deletion, once the records are locked. A query
    about something deleted can no longer be answered, so it does not wait on a site's worklist; its
    thread keeps what was asked (and, for an instance, stays readable with the record).
    Queries: one for the unresolved queries of the records named; one per deleted scan, lesion or
    biopsy form when such a query is on its dependants; then, if any is closed, the update, its
    history rows and the messages."""
    deleted = list(deleted)
    patients = {instance.pk for instance in deleted if isinstance(instance, Patient)}
    # (Sites, roles and users are deleted through the same services: they hold no queries.)
    instances = [instance for instance in deleted if type(instance) in FORM_OF_MODEL]
    patient_ids = patients | {instance.patient_id for instance in instances}
    if not patient_ids:
        return []
    unresolved = list(Query.objects.filter(patient_id__in=patient_ids, state__in=UNRESOLVED_STATES)
                      .select_related("patient", "opened_by").order_by("pk"))
    if not unresolved:
        return []
    # What each key (patient id, form, instance number) names, as the message says it.
    gone: dict[tuple[int, str, int], str] = {}
    for instance in instances:
        form = FORM_OF_MODEL[type(instance)]
        gone[(instance.patient_id, form, instance.redcap_repeat_instance)] = f"{form} {instance.redcap_repeat_instance}"
    queried_forms = {query.form for query in unresolved}
    # A deletion of a scan, lesion or biopsy takes the measurements or variants naming it with it
    # (the database cascades; locks.DEPENDANTS).
    for form, (dependant, attribute) in DEPENDANTS.items():
        parents = [instance for instance in instances if FORM_OF_MODEL[type(instance)] == form and instance.pk]
        if not parents or dependant not in queried_forms:
            continue
        for patient_id, number, parent_number in INSTRUMENTS[dependant].model.objects.filter(
                **{f"{attribute}__in": parents}).values_list("patient_id", "redcap_repeat_instance",
                                                             f"{attribute}__redcap_repeat_instance"):
            gone.setdefault((patient_id, dependant, number),
                            f"{dependant} {number} (with {form} {parent_number})")
    closing = []
    for query in unresolved:
        if query.patient_id in patients:
            what = f"record {query.patient.record_id}"
        elif (query.patient_id, query.form, query.instance_number) in gone:
            what = f"{gone[(query.patient_id, query.form, query.instance_number)]} of record {query.patient.record_id}"
        else:
            continue
        closing.append((query, what))
    if not closing:
        return []
    now = timezone.now()
    who = user.get_username() if user is not None else "the system"
    messages = []
    for query, what in closing:
        query.state, query.closed_at, query.updated_at = QueryState.CLOSED, now, now
        query._history_user = user
        messages.append(QueryMessage(
            query=query, author=user if user is not None else query.opened_by, created_at=now,
            transition=QueryTransition.CLOSE, state_after=QueryState.CLOSED,
            text=f"Closed by the system: {what} was deleted by {who}" + (f" ({door})" if door else "") + ".",
        ))
    queries = [query for query, _ in closing]
    bulk_update_with_history(queries, Query, ["state", "closed_at", "updated_at"], default_user=user,
                             default_change_reason=f"closed: deleted ({door})" if door else "closed: deleted",
                             default_date=now)
    QueryMessage.objects.bulk_create(messages)
    return queries
