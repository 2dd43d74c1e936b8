"""Changing the analysis settings re-derives everyone; the nightly task derives what is outdated."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from registry.models import AnalysisSettings, LineDerivation, PatientDerivation
from registry.services.derivation import analysis_settings_update, derivations_refresh, patients_derive
from registry.tasks import derive_all_task, derive_patients_task
from tests import factories


@pytest.fixture
def derived_patients(site_a):
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    patients = [factories.make_full_patient(site_a) for _ in range(2)]
    patients_derive(patient_ids=[patient.id for patient in patients])
    return patients


def test_a_new_cutoff_is_kept_with_its_author_and_every_patient_is_derived_again_after_the_commit(
    derived_patients, administrator, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        saved = analysis_settings_update(values={"data_cutoff": "2023-12-31"}, user=administrator)

    assert saved.data_cutoff == date(2023, 12, 31)
    latest = AnalysisSettings.objects.get(pk=1).history.latest()
    assert (latest.data_cutoff, latest.history_user) == (date(2023, 12, 31), administrator)
    assert set(PatientDerivation.objects.values_list("is_stale", flat=True)) == {True}
    assert len(callbacks) == 1

    callbacks[0]()  # the commit: derive_all_task, eagerly

    assert set(PatientDerivation.objects.values_list("is_stale", "data_cutoff")) == {(False, date(2023, 12, 31))}
    # The full patient's line started 2020-03-10 and nothing ended it: PFS censored, OS to the new cut-off
    # at the latest (last known alive 2023-11-20 is before it).
    assert set(LineDerivation.objects.values_list("os_date", flat=True)) == {date(2023, 11, 20)}


@pytest.mark.parametrize("values, field", [
    ({"sd_min_days": -1}, "sd_min_days"),
    ({"data_cutoff": "30/06/2024"}, "data_cutoff"),
    ({"cutoff": "2024-06-30"}, "cutoff"),
])
def test_an_invalid_setting_is_refused_and_nothing_is_written(
    derived_patients, administrator, values, field, django_capture_on_commit_callbacks,
):
    history_rows = AnalysisSettings.history.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError) as refused:
        analysis_settings_update(values=values, user=administrator)

    assert field in refused.value.message_dict
    assert AnalysisSettings.objects.get(pk=1).data_cutoff == date(2024, 6, 30)
    assert AnalysisSettings.history.count() == history_rows
    assert set(PatientDerivation.objects.values_list("is_stale", flat=True)) == {False}
    assert callbacks == []


def test_settings_saved_unchanged_mark_nothing_stale_and_write_no_history(
    derived_patients, administrator, django_capture_on_commit_callbacks,
):
    history_rows = AnalysisSettings.history.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        analysis_settings_update(values={"data_cutoff": date(2024, 6, 30), "sd_min_days": 42}, user=administrator)

    assert AnalysisSettings.history.count() == history_rows
    assert set(PatientDerivation.objects.values_list("is_stale", flat=True)) == {False}
    assert callbacks == []


def test_the_first_settings_are_created_when_there_were_none(db, administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        saved = analysis_settings_update(values={"death_window_days": "120"}, user=administrator)

    assert (saved.pk, saved.death_window_days, saved.sd_min_days) == (1, 120, 42)
    assert len(callbacks) == 1


def test_the_nightly_task_derives_only_missing_stale_and_outdated_patients(derived_patients, site_a):
    fresh, stale = derived_patients
    PatientDerivation.objects.filter(patient=stale).update(is_stale=True)
    never = factories.make_full_patient(site_a)
    fresh_at = PatientDerivation.objects.get(patient=fresh).derived_at

    derived = derive_all_task.delay().get()

    assert derived == 2
    assert PatientDerivation.objects.get(patient=fresh).derived_at == fresh_at
    assert not PatientDerivation.objects.filter(is_stale=True).exists()
    assert PatientDerivation.objects.filter(patient=never).exists()


def test_settings_changed_outside_the_service_make_everyone_outdated(derived_patients):
    AnalysisSettings.objects.filter(pk=1).update(beyond_pd_min_days=45)

    summary = derivations_refresh()

    assert summary.patients == 2
    assert {snapshot["beyond_pd_min_days"] for snapshot in
            PatientDerivation.objects.values_list("settings_snapshot", flat=True)} == {45}


def test_the_patients_task_derives_the_patients_it_names(derived_patients):
    first, second = derived_patients
    PatientDerivation.objects.update(is_stale=True)

    derived = derive_patients_task.delay([first.id]).get()

    assert derived == 1
    assert PatientDerivation.objects.get(patient=first).is_stale is False
    assert PatientDerivation.objects.get(patient=second).is_stale is True


def test_the_nightly_task_is_scheduled_in_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["derive-stale-patients-nightly"]["task"] == derive_all_task.name


def test_a_new_study_id_is_derived_into_every_patients_settings_snapshot(
    derived_patients, administrator, django_capture_on_commit_callbacks,
):
    # Rules §0 (v2): study_id is stored with every result, as the other settings are.
    assert set(PatientDerivation.objects.values_list("settings_snapshot__study_id", flat=True)) == {"ALK-REGISTRY"}
    with django_capture_on_commit_callbacks(execute=True):
        analysis_settings_update(values={"study_id": "ALK-NSCLC-2024"}, user=administrator)

    assert set(PatientDerivation.objects.values_list("is_stale", "settings_snapshot__study_id")) == {
        (False, "ALK-NSCLC-2024")}


def test_a_study_id_with_a_space_is_refused_by_the_service_and_nothing_is_written(derived_patients, administrator):
    with pytest.raises(ValidationError) as refused:
        analysis_settings_update(values={"study_id": "ALK REGISTRY"}, user=administrator)

    assert "study_id" in refused.value.message_dict
    assert AnalysisSettings.objects.get(pk=1).study_id == "ALK-REGISTRY"
    assert AnalysisSettings.objects.get(pk=1).history.count() == 1
    assert set(PatientDerivation.objects.values_list("is_stale", flat=True)) == {False}


def test_a_result_derived_under_rules_version_1_is_derived_again(derived_patients):
    # Results derived before version 2 are stale under it: the nightly refresh derives them again.
    first, second = derived_patients
    PatientDerivation.objects.filter(patient=first).update(rules_version=1)

    summary = derivations_refresh()

    assert summary.patients == 1
    assert set(PatientDerivation.objects.values_list("rules_version", flat=True)) == {2}
