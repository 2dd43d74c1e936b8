"""Freezing a data cut: what it stores, that contents are stored once, and what it refuses."""
import pytest

from registry.exports.cut_content import decompressed, from_canonical_bytes
from registry.exports.datasets import DATASETS as ANALYSIS_DATASETS
from registry.models import (
    AnalysisSettings, DataCut, DataCutBlob, DataCutEntry, DataCutScope, Patient, PatientDerivation,
)
from registry.records.record_content import record_content_hashes
from registry.selectors.data_cuts import cut_dataset, cut_export_patients
from registry.services.data_cuts import DataCutRefused, data_cut_freeze
from registry.services.instances import instance_save
from registry.services.locks import instance_lock, record_lock, record_unlock
from tests.access_roles import ROLE_CASES, user_for
from tests.data_cut_world import CUTOFF, SITE_A_RECORDS, SITE_B_RECORDS, build_cut_world, derive_everyone

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _stored():
    return DataCut.objects.count(), DataCutEntry.objects.count(), DataCutBlob.objects.count()


def test_a_cut_indexes_every_record_with_its_content_hash_and_site(world):
    cut = data_cut_freeze(name="first", cutoff=CUTOFF)

    entries = {entry.record_id: entry for entry in cut.entries.select_related("record_blob", "results_blob", "site")}
    assert sorted(entries) == sorted(SITE_A_RECORDS + SITE_B_RECORDS)
    assert {record_id for record_id, entry in entries.items() if entry.site_code == "site-a"} == set(SITE_A_RECORDS)
    # The record blob is the shared canonical content (registry/records/record_content.py), named by its SHA-256.
    assert {record_id: entry.record_blob.sha256 for record_id, entry in entries.items()} == record_content_hashes(
        Patient.objects.all())
    assert (cut.cutoff, cut.scope, cut.rules_version, cut.patients, cut.stale_patients, cut.not_derived_patients) == (
        CUTOFF, DataCutScope.ALL, 2, 20, 0, 0)  # rules version 2 (issue 13)
    # The cut keeps the settings the results were derived with, study_id (rules §0 v2) among them.
    assert cut.settings_snapshot["study_id"] == "ALK-REGISTRY"
    results = from_canonical_bytes(decompressed(entries[SITE_A_RECORDS[0]].results_blob.data))
    assert set(results) == {"datasets", "derivation", "study"}
    assert results["derivation"]["data_cutoff"] == "2024-06-30"
    # Every patient has one `patients` row and one row in the one-per-patient instrument `enrollment`.
    assert [len(results["datasets"]["patients"]), len(results["datasets"]["enrollment"])] == [1, 1]


def test_a_second_cut_of_unchanged_records_stores_only_its_index_and_has_the_same_hash(world):
    first = data_cut_freeze(name="first")
    blobs = DataCutBlob.objects.count()

    second = data_cut_freeze(name="second")

    # 20 records, each one record blob and one results blob: 40 distinct contents, stored once.
    assert blobs == 40
    assert DataCutBlob.objects.count() == 40
    assert second.new_blob_bytes == 0
    assert second.content_hash == first.content_hash  # the name and time are not content


def test_a_cut_after_one_record_changed_stores_two_new_blobs(world):
    data_cut_freeze(name="first")
    patient = Patient.objects.get(record_id=SITE_A_RECORDS[3])
    patient.smoking = 2 if patient.smoking != 2 else 0
    instance_save(instance=patient, user=None, door="test")
    derive_everyone()

    second = data_cut_freeze(name="second")

    # Its record content changed (smoking) and so did its results (the `patients` and `enrollment`
    # rows carry smoking): two new contents; the other 19 records' blobs are shared.
    assert DataCutBlob.objects.count() == 42
    assert second.new_blob_bytes > 0
    changed = DataCutEntry.objects.filter(record_id=SITE_A_RECORDS[3])
    assert changed.values("record_blob").distinct().count() == 2
    assert DataCutEntry.objects.filter(record_id=SITE_A_RECORDS[4]).values("record_blob").distinct().count() == 1


def test_stale_and_underived_results_are_kept_as_they_are_and_counted(world, site_a):
    PatientDerivation.objects.filter(patient__record_id=SITE_A_RECORDS[0]).update(is_stale=True)
    PatientDerivation.objects.filter(patient__record_id=SITE_A_RECORDS[1]).delete()

    cut = data_cut_freeze(name="first")

    assert (cut.stale_patients, cut.not_derived_patients, cut.patients) == (1, 1, 20)


def test_a_duplicate_name_is_refused_and_nothing_is_written(world):
    data_cut_freeze(name="first")
    before = _stored()

    with pytest.raises(DataCutRefused, match="'first' exists already"):
        data_cut_freeze(name="first")

    assert _stored() == before


@pytest.mark.parametrize("cutoff, message", [
    ("2024-12-31", "The cut-off 2024-12-31 is not the one the results are derived with \\(2024-06-30\\)"),
    (None, "no data cut-off"),
])
def test_a_cutoff_other_than_the_derivations_or_none_is_refused_and_nothing_is_written(world, cutoff, message):
    from datetime import date

    if cutoff is None:
        AnalysisSettings.objects.filter(pk=1).update(data_cutoff=None)

    with pytest.raises(DataCutRefused, match=message):
        data_cut_freeze(name="first", cutoff=date.fromisoformat(cutoff) if cutoff else None)

    assert _stored() == (0, 0, 0)


@pytest.mark.parametrize("role", [name for role, (name, _) in ROLE_CASES.items() if role != "administrator"])
def test_only_an_administrator_freezes_a_cut(world, role):
    user = user_for(role, world)

    with pytest.raises(DataCutRefused, match="only administrators may"):
        data_cut_freeze(name="first", user=user)

    assert _stored() == (0, 0, 0)


def test_an_administrator_freezes_a_cut_in_their_name(world, administrator):
    cut = data_cut_freeze(name="first", user=administrator)

    assert cut.frozen_by == administrator


def test_reading_a_cut_takes_one_query_for_its_records_and_one_per_batch_of_rows(world, django_assert_num_queries):
    cut = data_cut_freeze(name="first")
    cut = DataCut.objects.get(pk=cut.pk)
    # 1: the cut's entries (record ID, entry id, site code), whatever their number.
    with django_assert_num_queries(1):
        patients = cut_export_patients(cut)
    lines = cut_dataset(ANALYSIS_DATASETS["lines"])
    # 20 records in batches of 6: 4 batches, each one query (entries joined to their results blobs).
    with django_assert_num_queries(4):
        rows = list(lines.rows(patients, batch_patients=6))
    assert {row[0] for row in rows} <= set(SITE_A_RECORDS + SITE_B_RECORDS)


def test_the_study_cohort_of_a_cut_takes_one_query_for_its_records_and_one_per_batch(world, django_assert_num_queries):
    from registry.selectors.data_cuts import cut_study_cohort
    from registry.selectors.study_cohort import study_cohort

    cut = DataCut.objects.get(pk=data_cut_freeze(name="first").pk)
    live = study_cohort()
    # 1: the entries; 2: their 20 results blobs (one batch of up to 500).
    with django_assert_num_queries(2):
        frozen = cut_study_cohort(cut)
    # Nothing changed since the freeze: the cut's cohort is the live one, patient for patient.
    assert frozen == live


def test_an_empty_registry_gives_no_cut(db):
    AnalysisSettings.objects.create(pk=1, data_cutoff=CUTOFF)

    with pytest.raises(DataCutRefused, match="The registry holds no record to freeze"):
        data_cut_freeze(name="empty")

    assert _stored() == (0, 0, 0)


@pytest.mark.parametrize("name, message", [
    ("  ", "A data cut needs a name"), ("x" * 101, "longer than 100 characters"),
])
def test_a_blank_or_too_long_name_is_refused_and_nothing_is_written(world, name, message):
    with pytest.raises(DataCutRefused, match=message):
        data_cut_freeze(name=name)

    assert _stored() == (0, 0, 0)


def test_a_cut_of_locked_records_holds_the_records_locked_whole_and_nothing_else(world, administrator):
    # Four records: one locked whole, one locked and unlocked again, one with only its enrolment form
    # locked, one never locked. "Locked only" means a record verified as a whole, so only the first.
    locked, unlocked, one_form = (Patient.objects.get(record_id=record_id) for record_id in SITE_A_RECORDS[:3])
    record_lock(patient=locked, user=administrator)
    record_lock(patient=unlocked, user=administrator)
    record_unlock(patient=unlocked, user=administrator, reason="a late correction from the site")
    instance_lock(patient=one_form, form="enrollment", instance=None, user=administrator)

    cut = data_cut_freeze(name="verified", locked_only=True)

    assert list(cut.entries.values_list("record_id", flat=True)) == [locked.record_id]
    assert (cut.scope, cut.patients) == (DataCutScope.LOCKED, 1)


def test_a_cut_of_locked_records_when_none_is_locked_is_refused_and_nothing_is_written(world):
    before = _stored()

    with pytest.raises(DataCutRefused, match="No record is locked"):
        data_cut_freeze(name="verified", locked_only=True)

    assert _stored() == before
