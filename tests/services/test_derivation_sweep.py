"""The periodic sweep derives what a lost derivation task left stale, and leaves fresh changes to
their own task (registry/services/derivation.py, derivations_sweep).

Times are set by hand relative to now, minutes away from the two-minute grace, so the choice does
not depend on how long the test takes.
"""
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from registry.models import AnalysisSettings, Patient, PatientDerivation, PatientVersion
from registry.services.derivation import (
    PENDING_KEY, analysis_settings_update, derivations_sweep, patients_changed, patients_derive,
)
from registry.tasks import derive_sweep_task
from tests import factories

CUTOFF = date(2024, 6, 30)
GRACE_SECONDS = 120


@pytest.fixture(autouse=True)
def settings_and_empty_cache(db, settings):
    settings.DERIVATION_SWEEP_GRACE_SECONDS = GRACE_SECONDS
    AnalysisSettings.objects.create(pk=1, data_cutoff=CUTOFF)
    cache.clear()
    yield
    cache.clear()


def _minutes_ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def _derived(patient) -> Patient:
    patients_derive(patient_ids=[patient.id])
    return patient


def _stale_since(patient, moment) -> Patient:
    """The patient's results, derived, then marked stale at `moment` (as an edit then would have)."""
    _derived(patient)
    PatientDerivation.objects.filter(patient=patient).update(is_stale=True, stale_since=moment)
    return patient


def _written_at(patient, moment) -> Patient:
    """The patient, never derived, last written at `moment` (the row's own time; no door's version)."""
    Patient.objects.filter(pk=patient.pk).update(updated_at=moment)
    return patient


def _is_current(patient) -> bool:
    derivation = PatientDerivation.objects.filter(patient=patient).first()
    return derivation is not None and derivation.is_stale is False and derivation.stale_since is None


# ---------------------------------------------------------------------------- which patients

def test_results_stale_for_three_minutes_are_derived_by_the_sweep(site_a):
    patient = _stale_since(factories.make_full_patient(site_a), _minutes_ago(3))

    summary = derivations_sweep()

    assert summary.patients == 1
    assert _is_current(patient)


def test_results_stale_for_one_minute_are_left_to_the_task_their_change_queued(site_a):
    one_minute_ago = _minutes_ago(1)
    patient = _stale_since(factories.make_full_patient(site_a), one_minute_ago)
    derived_at = PatientDerivation.objects.get(patient=patient).derived_at

    summary = derivations_sweep()

    assert summary.patients == 0
    assert PatientDerivation.objects.filter(
        patient=patient, is_stale=True, stale_since=one_minute_ago, derived_at=derived_at).count() == 1


def test_a_patient_never_derived_and_written_three_minutes_ago_is_derived_by_the_sweep(site_a):
    patient = _written_at(factories.make_full_patient(site_a), _minutes_ago(3))
    assert not PatientDerivation.objects.exists()

    summary = derivations_sweep()

    assert summary.patients == 1
    assert _is_current(patient)


def test_a_patient_never_derived_and_written_one_minute_ago_is_left_to_its_task(site_a):
    _written_at(factories.make_full_patient(site_a), _minutes_ago(1))

    summary = derivations_sweep()

    assert summary.patients == 0
    assert not PatientDerivation.objects.exists()


def test_a_never_derived_patient_counts_from_its_last_write_through_a_door_not_its_creation(site_a):
    # Created long ago, but a door wrote its record (an import added a line) a minute ago.
    patient = _written_at(factories.make_full_patient(site_a), _minutes_ago(60))
    PatientVersion.objects.create(patient=patient, number=2, changed_at=_minutes_ago(1))

    assert derivations_sweep().patients == 0
    assert not PatientDerivation.objects.exists()

    PatientVersion.objects.filter(patient=patient).update(changed_at=_minutes_ago(3))
    assert derivations_sweep().patients == 1
    assert _is_current(patient)


def test_current_results_are_left_untouched_by_the_sweep(site_a):
    patient = _derived(factories.make_full_patient(site_a))
    Patient.objects.filter(pk=patient.pk).update(updated_at=_minutes_ago(60))
    before = PatientDerivation.objects.values_list("id", "derived_at", "is_stale", "stale_since").get()

    summary = derivations_sweep()

    assert summary.patients == 0
    assert PatientDerivation.objects.values_list("id", "derived_at", "is_stale", "stale_since").get() == before


def test_results_marked_stale_before_the_time_was_kept_are_derived_by_the_sweep(site_a):
    patient = _stale_since(factories.make_full_patient(site_a), None)

    assert derivations_sweep().patients == 1
    assert _is_current(patient)


def test_the_sweep_chooses_among_many_patients_in_a_fixed_number_of_queries(site_a, django_assert_num_queries):
    stale_long = [_stale_since(factories.make_full_patient(site_a), _minutes_ago(3)) for _ in range(3)]
    never_derived = [_written_at(factories.make_full_patient(site_a), _minutes_ago(3)) for _ in range(2)]
    stale_recently = _stale_since(factories.make_full_patient(site_a), _minutes_ago(1))
    current = _derived(factories.make_full_patient(site_a))
    untouched = PatientDerivation.objects.filter(patient__in=[stale_recently, current]).order_by("patient_id")
    untouched_before = list(untouched.values_list("patient_id", "derived_at", "is_stale"))

    # 1 SELECT the patients stale since before the grace, or never derived and written before it
    # 1 SELECT the analysis settings
    # 6 SELECT the batch's records (patients FOR UPDATE, lines, local therapy, assessments,
    #   lesions with their measurements, biopsies with their variants)
    # 1 upsert of the patients' results
    # 1 DELETE of their line, assessment and biopsy results (SQLite: 3, one per table)
    # 2 INSERT lines, biopsies (the factory's only assessment is its line's baseline: no response to store)
    expected = 12 if connection.vendor == "postgresql" else 14
    with django_assert_num_queries(expected):
        summary = derivations_sweep()

    assert summary.patients == 5
    assert all(_is_current(patient) for patient in [*stale_long, *never_derived])
    assert list(untouched.values_list("patient_id", "derived_at", "is_stale")) == untouched_before


# ---------------------------------------------------------------------------- the "queued" note

def test_a_patient_noted_as_queued_whose_task_was_lost_is_derived_by_the_sweep_and_queued_again_later(
    site_a, monkeypatch, django_capture_on_commit_callbacks,
):
    from registry.tasks import derive_patients_task

    patient = _derived(factories.make_full_patient(site_a))
    lost = []
    monkeypatch.setattr(derive_patients_task, "delay", lambda patient_ids: lost.append(patient_ids))  # never runs
    with django_capture_on_commit_callbacks(execute=True):
        patients_changed([patient.id])
    assert lost == [[patient.id]] and cache.get(PENDING_KEY.format(patient.id)) == 1
    PatientDerivation.objects.filter(patient=patient).update(stale_since=_minutes_ago(3))

    assert derivations_sweep().patients == 1

    assert _is_current(patient)
    assert cache.get(PENDING_KEY.format(patient.id)) is None
    with django_capture_on_commit_callbacks(execute=True):  # the next edit is queued again
        patients_changed([patient.id])
    assert lost == [[patient.id], [patient.id]]


# ---------------------------------------------------------------------------- when results became stale

def test_a_change_notes_when_the_results_became_stale_and_a_later_change_keeps_the_first_time(
    site_a, django_capture_on_commit_callbacks,
):
    patient = _derived(factories.make_full_patient(site_a))
    before_change = timezone.now()

    with django_capture_on_commit_callbacks(execute=False):
        patients_changed([patient.id])
    first = PatientDerivation.objects.get(patient=patient).stale_since
    with django_capture_on_commit_callbacks(execute=False):
        patients_changed([patient.id])

    assert before_change <= first <= timezone.now()
    assert PatientDerivation.objects.get(patient=patient).stale_since == first


def test_a_settings_change_notes_when_every_result_became_stale(site_a, administrator):
    patients = [_derived(factories.make_full_patient(site_a)) for _ in range(2)]
    before_change = timezone.now()

    analysis_settings_update(values={"data_cutoff": "2024-12-31"}, user=administrator, derive_all_after_commit=False)

    stale_since = set(PatientDerivation.objects.filter(patient__in=patients, is_stale=True)
                      .values_list("stale_since", flat=True))
    assert len(stale_since) == 1 and before_change <= stale_since.pop() <= timezone.now()


def test_the_sweep_task_returns_how_many_patients_it_derived(site_a):
    _stale_since(factories.make_full_patient(site_a), _minutes_ago(3))
    _stale_since(factories.make_full_patient(site_a), _minutes_ago(1))

    assert derive_sweep_task.delay().get() == 1


def test_a_change_committed_while_the_broker_is_unreachable_is_kept_logged_and_left_to_the_sweep(
    site_a, monkeypatch, caplog, django_capture_on_commit_callbacks,
):
    from registry.tasks import derive_patients_task

    patient = _derived(factories.make_full_patient(site_a))

    def broker_unreachable(patient_ids):
        raise ConnectionError("Error 111 connecting to the broker")

    monkeypatch.setattr(derive_patients_task, "delay", broker_unreachable)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # the commit does not fail
        patients_changed([patient.id])

    assert len(callbacks) == 1
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == [
        "Error calling _PendingDerivations.queue in on_commit() (Error 111 connecting to the broker).",
    ]
    assert PatientDerivation.objects.filter(patient=patient, is_stale=True, stale_since__isnull=False).count() == 1
    PatientDerivation.objects.filter(patient=patient).update(stale_since=_minutes_ago(3))
    assert derivations_sweep().patients == 1
    assert _is_current(patient)
