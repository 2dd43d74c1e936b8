"""Every door that changes records queues one derivation of the patients it changed, after the commit.

The tests run inside a transaction that never commits; `django_capture_on_commit_callbacks(execute=True)`
runs what would run at the commit. Without a broker the task runs in-process (eager).
"""
import io
from datetime import date

import pytest
import tablib
from django.core.cache import cache
from django.db import transaction

from registry.models import AnalysisSettings, LineDerivation, PatientDerivation
from registry.records.spreadsheets import VitalStatusResource
from registry.selectors.derivation_inputs import patient_records
from registry.services.derivation import PENDING_KEY, patients_changed, patients_derive_queued
from registry.services.records import records_import
from registry.tasks import derive_patients_task
from tests import factories
from tests.admin.admin_pages import add_inline_row, change_url, delete_url, form_data_of
from tests.records.flat_files import csv_text, instance_row, record_row

CUTOFF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def settings_and_empty_cache(db):
    AnalysisSettings.objects.create(pk=1, data_cutoff=CUTOFF)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def queued(monkeypatch):
    """The patient id lists handed to derive_patients_task, which still runs (eagerly)."""
    calls = []
    enqueue = derive_patients_task.delay

    def recording_delay(patient_ids):
        calls.append(list(patient_ids))
        return enqueue(patient_ids)

    monkeypatch.setattr(derive_patients_task, "delay", recording_delay)
    return calls


def _stored_matches_a_fresh_derivation(patient) -> bool:
    from registry import derive
    from registry.selectors.derivation_inputs import current_analysis_settings

    fresh = derive.derive_patient(patient_records([patient.id])[patient.id], current_analysis_settings())
    stored = PatientDerivation.objects.get(patient=patient)
    stored_lines = list(LineDerivation.objects.filter(patient=patient).order_by("line_no").values_list(
        "line_no", "pd_date", "pfs_days"))
    return (not stored.is_stale and stored.data_cutoff == CUTOFF and stored.cohort == fresh.cohort
            and stored_lines == [(line.line_no, line.pd_date, line.pfs_days) for line in fresh.lines])


# ---------------------------------------------------------------------------- coalescing

def test_changes_in_one_transaction_queue_one_task_for_all_their_patients(
    site_a, queued, django_capture_on_commit_callbacks,
):
    first, second = factories.make_full_patient(site_a), factories.make_full_patient(site_a)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        patients_changed([first.id])
        patients_changed([second.id, first.id])
        patients_changed([second.id])

    assert len(callbacks) == 1
    assert queued == [sorted([first.id, second.id])]
    assert _stored_matches_a_fresh_derivation(first) and _stored_matches_a_fresh_derivation(second)


def test_a_patient_queued_and_not_yet_started_is_not_queued_again(
    site_a, monkeypatch, django_capture_on_commit_callbacks,
):
    patient = factories.make_patient(site_a)
    calls = []
    monkeypatch.setattr(derive_patients_task, "delay", lambda patient_ids: calls.append(patient_ids))  # a broker

    with django_capture_on_commit_callbacks(execute=True):
        patients_changed([patient.id])
    with django_capture_on_commit_callbacks(execute=True):  # another request, before the task started
        patients_changed([patient.id])

    assert calls == [[patient.id]]
    assert cache.get(PENDING_KEY.format(patient.id)) == 1

    patients_derive_queued(patient_ids=[patient.id])  # what the worker runs: the key goes first
    assert cache.get(PENDING_KEY.format(patient.id)) is None
    with django_capture_on_commit_callbacks(execute=True):
        patients_changed([patient.id])
    assert calls == [[patient.id], [patient.id]]


def test_a_change_marks_the_stored_results_stale_at_once_in_one_query(
    site_a, django_assert_num_queries, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)
    patients_derive_queued(patient_ids=[patient.id])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        # 1 UPDATE registry_patientderivation SET is_stale = true WHERE patient_id IN (...) AND NOT is_stale
        with django_assert_num_queries(1):
            patients_changed([patient.id])

    assert PatientDerivation.objects.get(patient=patient).is_stale is True
    assert len(callbacks) == 1


def test_a_rolled_back_transaction_queues_nothing_and_marks_nothing_stale(
    site_a, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)
    patients_derive_queued(patient_ids=[patient.id])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            patients_changed([patient.id])
            raise RuntimeError("the request failed")

    assert callbacks == [] and queued == []
    assert PatientDerivation.objects.get(patient=patient).is_stale is False


def test_after_a_rolled_back_transaction_the_next_change_is_queued_again(
    site_a, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            patients_changed([patient.id])
            raise RuntimeError("the request failed")
        patients_changed([patient.id])

    assert queued == [[patient.id]]


# ---------------------------------------------------------------------------- the REDCap import

def _import(site, rows, **options):
    return records_import(source=io.BytesIO(csv_text(rows).encode()), file_format="csv", site=site, user=None,
                          **options)


IMPORTED = [
    record_row("P-IMP-1", sex="1", adv_dx_date="2020-01-01", vital="1", last_alive_date="2023-01-01"),
    instance_row("P-IMP-1", "treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="2020-01-10"),
    record_row("P-IMP-2", sex="2", adv_dx_date="2021-01-01"),
]


def test_an_import_queues_one_derivation_of_the_patients_it_wrote(site_a, queued, django_capture_on_commit_callbacks):
    untouched = factories.make_patient(site_a, "P-UNTOUCHED")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _import(site_a, IMPORTED)

    assert result.problems == []
    imported = list(PatientDerivation.objects.order_by("patient__record_id").values_list("patient__record_id",
                                                                                         flat=True))
    assert imported == ["P-IMP-1", "P-IMP-2"]
    assert len(callbacks) == 1 and len(queued) == 1 and len(queued[0]) == 2
    assert not PatientDerivation.objects.filter(patient=untouched).exists()
    assert LineDerivation.objects.get(patient__record_id="P-IMP-1").line_no == 1


def test_an_import_with_a_problem_queues_nothing_and_writes_nothing(
    site_a, queued, django_capture_on_commit_callbacks,
):
    bad = [*IMPORTED, record_row("P-IMP-3", sex="7", adv_dx_date="2021-01-01")]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _import(site_a, bad)

    assert result.problems
    assert callbacks == [] and queued == []
    assert not PatientDerivation.objects.exists()


def test_a_dry_run_import_queues_nothing(site_a, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _import(site_a, IMPORTED, dry_run=True)

    assert callbacks == [] and queued == []
    assert not PatientDerivation.objects.exists()


def test_reimporting_unchanged_records_queues_nothing(site_a, queued, django_capture_on_commit_callbacks):
    _import(site_a, IMPORTED)

    with django_capture_on_commit_callbacks(execute=True):
        _import(site_a, IMPORTED)

    assert queued == []


# ---------------------------------------------------------------------------- the admin

@pytest.fixture
def coordinator_client(client, coordinator_a):
    client.force_login(coordinator_a)
    return client


def test_a_patient_page_saved_with_a_new_line_queues_one_derivation(
    site_a, coordinator_client, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_patient(site_a)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "treatment_lines", line_no="1", line_type="1", line_drug="2", line_start="2020-03-10",
                   treatment_line_complete="0")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 302
    # save_model (the patient) and save_formset (its lines) in one request: one task.
    assert len(callbacks) == 1 and queued == [[patient.id]]
    assert _stored_matches_a_fresh_derivation(patient)


def test_an_instrument_page_saved_queues_its_patients_derivation(
    site_a, coordinator_client, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)
    line = patient.treatment_lines.get()
    data = form_data_of(coordinator_client.get(change_url(line)))
    data["line_end"], data["line_end_reason"] = "2021-01-05", "2"

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(change_url(line), data)

    assert response.status_code == 302
    assert queued == [[patient.id]]
    assert _stored_matches_a_fresh_derivation(patient)


def test_deleting_an_instrument_in_the_admin_queues_its_patients_derivation(
    site_a, coordinator_client, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)
    biopsy = patient.biopsies.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(delete_url(biopsy), {"post": "yes"})

    assert response.status_code == 302
    assert queued == [[patient.id]]
    assert not patient.biopsies.exists()
    assert _stored_matches_a_fresh_derivation(patient)


def test_an_admin_form_with_an_error_queues_nothing(
    site_a, coordinator_client, queued, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a)
    line = patient.treatment_lines.get()
    data = form_data_of(coordinator_client.get(change_url(line)))
    data["line_end"] = "2019-01-01"  # before the line starts

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = coordinator_client.post(change_url(line), data)

    assert response.status_code == 200
    assert callbacks == [] and queued == []
    assert not PatientDerivation.objects.exists()


# ---------------------------------------------------------------------------- the spreadsheets

def _vital_status(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def test_a_spreadsheet_import_queues_one_derivation_of_the_patients_it_changed(
    site_a, queued, django_capture_on_commit_callbacks,
):
    first, second = factories.make_patient(site_a, "P-VS-1"), factories.make_patient(site_a, "P-VS-2")
    factories.make_patient(site_a, "P-VS-3")  # not in the file
    file = _vital_status("record_id,vital,death_date\nP-VS-1,2,2023-05-01\nP-VS-2,1,\n")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = VitalStatusResource().import_data(file, dry_run=False)

    assert not result.has_errors() and not result.has_validation_errors()
    assert len(callbacks) == 1 and queued == [sorted([first.id, second.id])]
    assert PatientDerivation.objects.get(patient=first).os_dx_event is True  # died 2023-05-01, before the cut-off
    assert _stored_matches_a_fresh_derivation(second)


def test_a_spreadsheet_with_an_invalid_row_queues_nothing_and_writes_nothing(
    site_a, queued, django_capture_on_commit_callbacks,
):
    factories.make_patient(site_a, "P-VS-1")
    file = _vital_status("record_id,vital\nP-VS-1,2\nP-UNKNOWN,1\n")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = VitalStatusResource().import_data(file, dry_run=False)

    assert result.has_validation_errors()
    assert callbacks == [] and queued == []
    assert not PatientDerivation.objects.exists()


def test_a_spreadsheet_dry_run_queues_nothing(site_a, queued, django_capture_on_commit_callbacks):
    factories.make_patient(site_a, "P-VS-1")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        VitalStatusResource().import_data(_vital_status("record_id,vital\nP-VS-1,2\n"), dry_run=True)

    assert callbacks == [] and queued == []
