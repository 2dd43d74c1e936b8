"""Deriving and storing the results of the derivation rules, and keeping them current.

    patients_derive(patient_ids=[...])      derive now, in batches (command, task, benchmark)
    patients_changed([patient_id, ...])     a door changed these patients' records: mark their
                                            results stale and derive them once after the commit
    derivations_sweep()                     derive what a lost task left stale (every few minutes)
    analysis_settings_update(values=..., user=...)

Each batch is read by one selector (registry/selectors/derivation_inputs.py, six queries), derived
by the pure package (registry/derive/) and written with bulk statements, in one transaction:

    1 upsert of the patients' PatientDerivation rows (INSERT ... ON CONFLICT (patient) DO UPDATE)
    1 DELETE of their line, assessment and biopsy results (on PostgreSQL one statement deleting
      from the three tables in data-modifying WITH clauses; SQLite has none: three DELETEs there)
    3 bulk INSERTs                           lines, assessments, biopsies (none when nothing to insert)

So on PostgreSQL a batch costs 11 queries whatever its size, 12 with the settings; re-deriving one
patient after an edit, in its own transaction, is those 12 plus BEGIN and COMMIT (issue 3's target:
at most 15). SQLite: 2 more.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from registry import derive
from registry.derive.results import PatientDerivation as DerivedPatient
from registry.models import (
    AnalysisSettings, AssessmentDerivation, BiopsyDerivation, LineDerivation, Patient, PatientDerivation,
)
from registry.selectors.derivation_inputs import (
    PatientInputs, analysis_settings_from, current_analysis_settings, patient_ids_stale_before, patient_ids_to_derive,
    patient_inputs, settings_snapshot,
)
from registry.services.bulk_statements import insert_rows
from registry.services.settings_rows import settings_row_update

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# A patient queued for derivation is not queued again while this key lives (until its task starts,
# or at most this long, should the task be lost: then the next edit queues it again, and the sweep
# derives it anyway, ignoring and clearing the key).
PENDING_KEY = "derive-pending:{}"
PENDING_TIMEOUT_SECONDS = 60
SETTINGS_CHANGE_REASON = "analysis settings changed"

_PATIENT_RESULT_FIELDS = (
    "rules_version", "settings_snapshot", "data_cutoff", "derived_at", "is_stale", "stale_since", "age_at_adv_dx",
    "cohort", "tki_sequence", "index_line_no", "index_pd_date", "alk_mut_status_at_index", "os_dx_date",
    "os_dx_days", "os_dx_months", "os_dx_event", "os_dx_censor_reason", "flags", "flag_count", "flag_codes",
    "last_known_alive_date", "compound_mutation_at_index", "n_lines",
)


@dataclass(frozen=True)
class DerivationSummary:
    patients: int = 0
    lines: int = 0
    assessments: int = 0
    biopsies: int = 0
    flags: int = 0
    seconds: float = 0.0

    def __add__(self, other: DerivationSummary) -> DerivationSummary:
        return DerivationSummary(
            patients=self.patients + other.patients, lines=self.lines + other.lines,
            assessments=self.assessments + other.assessments, biopsies=self.biopsies + other.biopsies,
            flags=self.flags + other.flags, seconds=self.seconds + other.seconds,
        )


# ---------------------------------------------------------------------------- deriving

def patients_derive(
    *, patient_ids: Iterable[int], settings: derive.AnalysisSettings | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: Callable[[int, int], None] | None = None,
) -> DerivationSummary:
    """Derives the patients and replaces their stored results, `batch_size` patients per transaction.

    `settings` None: the stored analysis settings (one query). Ids of patients that no longer exist
    are skipped. `progress(done, total)` is called after each batch. Idempotent.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    started = time.perf_counter()
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    if not ids:
        return DerivationSummary()
    if settings is None:
        settings = current_analysis_settings()
    snapshot = settings_snapshot(settings)
    summary = DerivationSummary()
    for start in range(0, len(ids), batch_size):
        summary += derive_batch(ids[start:start + batch_size], settings, snapshot)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return DerivationSummary(
        patients=summary.patients, lines=summary.lines, assessments=summary.assessments, biopsies=summary.biopsies,
        flags=summary.flags, seconds=time.perf_counter() - started,
    )


def derive_batch(patient_ids: list[int], settings: derive.AnalysisSettings, snapshot: dict) -> DerivationSummary:
    """Derives and stores one batch in one transaction (also a chunk of a fanned-out run:
    registry/services/derivation_runs.py); the fixed queries of the module's docstring."""
    # savepoint=False: the batch is the transaction. Called inside another one (a test, a caller's
    # atomic block) it joins it, and a failure rolls back the whole, which is what the caller gets anyway.
    with transaction.atomic(savepoint=False):
        loaded = patient_inputs(patient_ids, lock=True)
        derived = {patient_id: derive.derive_patient(inputs.record, settings) for patient_id, inputs in loaded.items()}
        return _store(loaded, derived, snapshot)


def _store(loaded: dict[int, PatientInputs], derived: dict[int, DerivedPatient], snapshot: dict) -> DerivationSummary:
    """Writes the batch's results: 1 upsert, the deletes (1 statement; 3 on SQLite), 3 inserts."""
    now = timezone.now()
    patient_rows, line_rows, assessment_rows, biopsy_rows = [], [], [], []
    flag_total = 0
    for patient_id, result in derived.items():
        inputs = loaded[patient_id]
        patient_rows.append(_patient_row(patient_id, result, snapshot, now))
        flag_total += len(result.flags)
        for line in result.lines:
            line_id = inputs.line_ids[line.line_no]
            line_rows.append(_line_row(patient_id, line_id, line))
            assessment_ids = inputs.assessment_ids
            assessment_rows.extend(
                _assessment_row(patient_id, line_id, assessment_ids[assessment.ta_date], assessment)
                for assessment in line.assessments
            )
        biopsy_rows.extend(
            _biopsy_row(patient_id, inputs.biopsy_ids[biopsy.bx_date], biopsy) for biopsy in result.biopsies
        )
    # First, so that its row locks also order two derivations of one patient that got past the
    # patient lock of the selector (there is none on SQLite).
    insert_rows(PatientDerivation, PATIENT_COLUMNS, patient_rows, upsert_on="patient")
    _delete_results(list(loaded))
    # Each one statement (registry/services/bulk_statements.py): what bulk_create would write, without
    # a model instance per row or a placeholder per value (at 150,000 assessment results per 10,000
    # patients, compiling those took most of a full run).
    insert_rows(LineDerivation, LINE_COLUMNS, line_rows)
    insert_rows(AssessmentDerivation, ASSESSMENT_COLUMNS, assessment_rows)
    insert_rows(BiopsyDerivation, BIOPSY_COLUMNS, biopsy_rows)
    return DerivationSummary(
        patients=len(patient_rows), lines=len(line_rows), assessments=len(assessment_rows),
        biopsies=len(biopsy_rows), flags=flag_total,
    )


RESULT_MODELS = (LineDerivation, AssessmentDerivation, BiopsyDerivation)


def _delete_results(patient_ids: list[int]) -> None:
    """Deletes the patients' line, assessment and biopsy results.

    Nothing refers to these tables and no signal listens to them, so no row needs collecting first.
    PostgreSQL deletes from all three in one statement (data-modifying WITH clauses: one round trip,
    one query of the 15 that re-deriving a patient may cost); SQLite has no such statement, so it
    gets Django's fast delete, one DELETE ... WHERE patient_id IN per table.
    """
    if connection.vendor != "postgresql":
        for model in RESULT_MODELS:
            model.objects.filter(patient_id__in=patient_ids).delete()
        return
    quote = connection.ops.quote_name
    # Typed as the column is: psycopg would send small ids as a smallint[].
    id_type = Patient._meta.pk.db_type(connection)
    deletes = [f"DELETE FROM {quote(model._meta.db_table)} WHERE patient_id = ANY(%s::{id_type}[])"
               for model in RESULT_MODELS]
    with_clauses = ", ".join(f"deleted_{number} AS ({sql})" for number, sql in enumerate(deletes[:-1]))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {with_clauses} {deletes[-1]}", [patient_ids] * len(deletes))


def _blank(value) -> str:
    """A label that may be blank, for a text column ("" is blank)."""
    if value is None:
        return ""
    return getattr(value, "value", value)


PATIENT_COLUMNS = ("patient", *_PATIENT_RESULT_FIELDS)


def _patient_row(patient_id: int, result: DerivedPatient, snapshot: dict, now) -> tuple:
    codes = list(dict.fromkeys(flag.code for flag in result.flags))
    return (
        patient_id,
        # _PATIENT_RESULT_FIELDS, in order:
        result.rules_version,
        snapshot,
        result.settings.data_cutoff,
        now,  # derived_at
        False,  # is_stale
        None,  # stale_since
        result.age_at_adv_dx,
        result.cohort,
        _blank(result.tki_sequence),
        result.index_line_no,
        result.index_pd_date,
        _blank(result.alk_mut_status_at_index),
        result.os_dx_date,
        result.os_dx_days,
        result.os_dx_months,
        result.os_dx_event,
        _blank(result.os_dx_censor_reason),
        [{"code": flag.code, "message": flag.message, "form": flag.form, "instance": flag.instance}
         for flag in result.flags],
        len(result.flags),  # flag_count
        # flag_codes ";a;b;": every code between semicolons, so `flag_codes__contains=";code;"` finds it exactly.
        f";{';'.join(codes)};" if codes else "",
        result.last_known_alive_date,
        result.compound_mutation_at_index,
        result.n_lines,
    )


LINE_COLUMNS = (
    "patient", "line", "line_no", "tki_generation", "age_at_start", "histology_at_start", "baseline_date",
    "subsequent_to_index", "best_response", "pd_date", "extent", "n_progressing_lesions", "involved_sites",
    "cns_progression", "cns_only_progression", "symptomatic_progression", "symptomatic_cns_progression",
    "local_therapy_for_pd", "continued_beyond_pd", "beyond_pd_days", "pfs_date", "pfs_days", "pfs_months",
    "pfs_event", "pfs_event_type", "pfs_censor_reason", "os_date", "os_days", "os_months", "os_event",
    "os_censor_reason", "baseline_sum_mm", "best_response_date", "first_subsequent_line",
    "first_subsequent_tki_line", "pfs_srcdom", "pfs_srcvar", "pfs_srcseq", "os_srcdom", "os_srcvar", "os_srcseq",
)


def _line_row(patient_id: int, line_id: int, line) -> tuple:
    return (
        patient_id, line_id, line.line_no, line.tki_generation, line.age_at_start, line.histology_at_start,
        line.baseline_date, line.subsequent_to_index, _blank(line.best_response), line.pd_date, _blank(line.extent),
        line.n_progressing_lesions, ";".join(str(site) for site in sorted(line.involved_sites or ())),
        line.cns_progression, line.cns_only_progression, line.symptomatic_progression,
        line.symptomatic_cns_progression, line.local_therapy_for_pd, line.continued_beyond_pd, line.beyond_pd_days,
        line.pfs_date, line.pfs_days, line.pfs_months, line.pfs_event, _blank(line.pfs_event_type),
        _blank(line.pfs_censor_reason), line.os_date, line.os_days, line.os_months, line.os_event,
        _blank(line.os_censor_reason), line.baseline_sum_mm, line.best_response_date,
        line.first_subsequent_line, line.first_subsequent_tki_line,
        *_source_columns(line.pfs_source), *_source_columns(line.os_source),
    )


def _source_columns(source) -> tuple:
    """(srcdom, srcvar, srcseq) of an endpoint's date (rules §8 v2); blank without an endpoint."""
    if source is None:
        return "", "", None
    return source.srcdom, source.srcvar, source.srcseq


ASSESSMENT_COLUMNS = (
    "patient", "assessment", "line", "line_no", "ta_date", "target_sum_mm", "pct_change_baseline",
    "pct_change_nadir", "target_response", "nontarget_response", "new_lesions", "overall_response",
    "response_source", "discrepancy", "nadir_mm",
)


def _assessment_row(patient_id: int, line_id: int, assessment_id: int, assessment) -> tuple:
    return (
        patient_id, assessment_id, line_id, assessment.line_no, assessment.ta_date, assessment.target_sum_mm,
        assessment.pct_change_baseline, assessment.pct_change_nadir, _blank(assessment.target_response),
        _blank(assessment.nontarget_response), assessment.new_lesions, assessment.overall_response.value,
        assessment.response_source.value, assessment.discrepancy, assessment.nadir_mm,
    )


BIOPSY_COLUMNS = (
    "patient", "biopsy", "bx_date", "phase", "alk_kd_mutations", "alk_compound", "g1202r", "alk_independent",
    "transformation", "mechanism_category", "at_index_resistance",
)


def _biopsy_row(patient_id: int, biopsy_id: int, biopsy) -> tuple:
    return (
        patient_id, biopsy_id, biopsy.bx_date, _blank(biopsy.phase), biopsy.alk_kd_mutations, biopsy.alk_compound,
        biopsy.g1202r, biopsy.alk_independent, _blank(biopsy.transformation), biopsy.mechanism_category,
        biopsy.at_index_resistance,
    )


def patients_derive_queued(*, patient_ids: Iterable[int]) -> DerivationSummary:
    """What a queued derivation runs: forget that the patients are queued, then derive them.

    The keys go first, so that an edit committed from now on queues the patient again, and one
    committed before is read by this derivation.
    """
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    if ids:
        cache.delete_many([PENDING_KEY.format(patient_id) for patient_id in ids])
    return patients_derive(patient_ids=ids)


def derivations_refresh() -> DerivationSummary:
    """Derives every patient whose stored results are missing, stale, or of other settings or rules
    (after a settings change: everyone), here, in batches (loading the demo). The nightly task does the
    same fanned out over the workers (registry/services/derivation_runs.py)."""
    settings = current_analysis_settings()
    return patients_derive(patient_ids=patient_ids_to_derive(settings), settings=settings)


def derivations_sweep(*, grace_seconds: int | None = None) -> DerivationSummary:
    """Derives the patients whose results have been stale for more than `grace_seconds` (default
    settings.DERIVATION_SWEEP_GRACE_SECONDS), or who have none and were last written that long ago:
    the periodic task that keeps results current within minutes when a derivation queued after a
    commit was lost (a worker or server killed, the broker down).

    Patients changed within the grace are left to the task their change queued. Their "queued" notes
    in the cache are ignored and cleared, as a queued task clears them: a lost task's note must not
    keep the next edit from queueing again. Idempotent; running beside the task it stands in for
    costs a second derivation, not a wrong one.
    """
    if grace_seconds is None:
        grace_seconds = django_settings.DERIVATION_SWEEP_GRACE_SECONDS
    patient_ids = patient_ids_stale_before(timezone.now() - timedelta(seconds=grace_seconds))
    if patient_ids:
        logger.warning("Derivation sweep: %d patients stale for more than %d s (their queued derivation is late "
                       "or was lost)", len(patient_ids), grace_seconds)
    return patients_derive_queued(patient_ids=patient_ids)


# ---------------------------------------------------------------------------- keeping them current

def patients_mark_stale(*, patient_ids: Iterable[int] | QuerySet) -> int:
    """Marks the stored derivations of these patients stale; one UPDATE (a queryset of ids is its
    subquery). Returns how many."""
    if not isinstance(patient_ids, QuerySet):
        patient_ids = sorted({int(patient_id) for patient_id in patient_ids})
        if not patient_ids:
            return 0
    return PatientDerivation.objects.filter(patient_id__in=patient_ids, is_stale=False).update(
        is_stale=True, stale_since=timezone.now())


class _PendingDerivations:
    """The patients changed during one transaction; derived by one task once it commits."""

    def __init__(self):
        self.patient_ids: set[int] = set()
        self.id_querysets: list[QuerySet] = []  # read after the commit
        self.done = False

    def add(self, patient_ids: set[int] | QuerySet) -> None:
        if isinstance(patient_ids, QuerySet):
            self.id_querysets.append(patient_ids)
        else:
            self.patient_ids.update(patient_ids)

    def queue(self) -> None:
        """The on_commit callback (a bound method: Django names a failing robust callback by its
        `__qualname__`, which an instance has not)."""
        self.done = True
        patient_ids = set(self.patient_ids)
        for queryset in self.id_querysets:
            patient_ids.update(queryset)
        # Across transactions (requests), a patient already queued and not yet started is not queued twice.
        queued = [
            patient_id for patient_id in sorted(patient_ids)
            if cache.add(PENDING_KEY.format(patient_id), 1, timeout=PENDING_TIMEOUT_SECONDS)
        ]
        if queued:
            from registry.tasks import derive_patients_task

            derive_patients_task.delay(queued)


_PENDING_ATTRIBUTE = "_registry_pending_derivations"


def patients_changed(patient_ids: Iterable[int] | QuerySet, *, using: str | None = None) -> None:
    """A door changed these patients' records: their results are stale now (one UPDATE), and one
    task derives all patients changed in this transaction once it commits (nothing if it rolls back).

    `patient_ids` may be a queryset of ids (`.values_list("id", flat=True)`): it is the UPDATE's
    subquery and is read again only after the commit, so it costs the transaction no extra query.
    The task is queued with `robust` on_commit: when the broker is down the change is still saved,
    the results stay marked stale (since now) and the periodic `derivations_sweep` derives them.
    """
    if not isinstance(patient_ids, QuerySet):
        patient_ids = {int(patient_id) for patient_id in patient_ids if patient_id is not None}
        if not patient_ids:
            return
    patients_mark_stale(patient_ids=patient_ids)
    connection = transaction.get_connection(using)
    pending = getattr(connection, _PENDING_ATTRIBUTE, None)
    registered = pending is not None and not pending.done and any(
        callback == pending.queue for _, callback, _ in connection.run_on_commit
    )
    if registered:
        pending.add(patient_ids)
        return
    # A new transaction (or the last one's callback ran or was discarded by a rollback).
    pending = _PendingDerivations()
    pending.add(patient_ids)  # before on_commit, which runs it at once outside a transaction
    setattr(connection, _PENDING_ATTRIBUTE, pending)
    transaction.on_commit(pending.queue, using=using, robust=True)


def records_changed(*instances) -> None:
    """`patients_changed` for saved or deleted model instances: a Patient, or anything with a
    `patient_id` (the instruments). Other models (sites, users) are ignored."""
    patients_changed(
        instance.pk if isinstance(instance, Patient) else getattr(instance, "patient_id", None)
        for instance in instances
    )


# ---------------------------------------------------------------------------- settings

@transaction.atomic
def analysis_settings_update(*, values: dict, user, derive_all_after_commit: bool = True) -> AnalysisSettings:
    """Changes the analysis settings (rules §0), keeping the history; when anything changed, every
    derivation is marked stale and (unless the caller derives them itself) all are derived again
    after the commit.

    `values` maps setting names to new values (text is converted as a form would); an unknown name or
    an invalid value raises ValidationError and nothing is written.
    """
    stored, changed = settings_row_update(
        AnalysisSettings, values=values, user=user, reason=SETTINGS_CHANGE_REASON, what="an analysis setting",
        comparable=analysis_settings_from)
    if not changed:
        return stored
    PatientDerivation.objects.filter(is_stale=False).update(is_stale=True, stale_since=timezone.now())
    if derive_all_after_commit:
        user_id = getattr(user, "pk", None)

        def derive_all_later() -> None:
            from registry.models import DerivationRun
            from registry.tasks import derive_all_task

            # Fanned out over the workers in chunks (registry/services/derivation_runs.py).
            derive_all_task.delay(trigger=DerivationRun.Trigger.SETTINGS.value, user_id=user_id,
                                  reason=SETTINGS_CHANGE_REASON)

        transaction.on_commit(derive_all_later, robust=True)
    return stored
