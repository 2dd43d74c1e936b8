"""The instance services every admin page writes through: lock, version check, numbering, validation,
audit trail, re-derivation and version bump in one place."""
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.models import Lesion, Patient, PatientDerivation, PatientVersion, Role, TreatmentLine
from registry.services.instances import (
    LastChange, RecordChangedMeanwhile, instance_delete, instance_save, instances_save, record_last_change,
    record_version_check,
)
from registry.services.patient_versions import current_versions
from tests import factories

pytestmark = pytest.mark.django_db


def line_history_rows() -> list[tuple]:
    return list(TreatmentLine.history.order_by("history_id").values_list("history_type", "history_change_reason"))


def test_a_save_over_a_stale_version_names_who_changed_the_record_and_when_and_writes_nothing(
    site_a, monkeypatch,
):
    patient = factories.make_patient(site_a, "P-A", mrn="MRN-0")
    coordinator = factories.make_user("coordinator_b", role=Role.COORDINATOR, sites=[site_a])
    read_version = current_versions([patient.pk])[patient.pk]
    monkeypatch.setattr(timezone, "now", lambda: datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC))
    new_line = TreatmentLine(patient=patient, line_no=1, line_type=1, line_drug=2, line_start=date(2020, 3, 10))
    instance_save(instance=new_line, user=coordinator, door="admin")
    stale = Patient.objects.get(pk=patient.pk)
    stale.mrn = "MRN-STALE"

    with pytest.raises(RecordChangedMeanwhile) as refused:
        instance_save(instance=stale, user=None, door="admin", expected_version=read_version)

    assert (refused.value.record_id, refused.value.expected_version, refused.value.current_version) == (
        "P-A", f"{patient.pk}.1", f"{patient.pk}.2",
    )
    assert (refused.value.last_change.user_name, refused.value.last_change.changed_at) == (
        "coordinator_b", datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert Patient.objects.get(pk=patient.pk).mrn == "MRN-0"
    assert PatientVersion.objects.get(patient=patient).number == 2


def test_new_instances_are_numbered_after_the_highest_stored_one_in_the_order_given(site_a):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)
    TreatmentLine.objects.filter(patient=patient).update(redcap_repeat_instance=7)
    new_lines = [
        TreatmentLine(patient=patient, line_no=line_no, line_type=1, line_drug=2, line_start=date(2021, line_no, 1))
        for line_no in (2, 3)
    ]
    new_lesion = Lesion(patient=patient, les_id="L1-T1", les_line=1, les_class=1, les_site=1)

    instances_save(saved=[*new_lines, new_lesion], user=None, door="admin")

    assert [line.redcap_repeat_instance for line in new_lines] == [8, 9]
    assert new_lesion.redcap_repeat_instance == 1


def test_an_invalid_instance_is_refused_with_the_models_message_and_nothing_is_written(site_a):
    patient = factories.make_patient(site_a)
    line = TreatmentLine(patient=patient, line_no=1, line_type=1, line_drug=2, line_start=date(2021, 6, 1),
                         line_end=date(2021, 5, 1))

    with pytest.raises(ValidationError) as refused:
        instance_save(instance=line, user=None, door="admin")

    assert refused.value.message_dict == {
        "line_end": ["The line cannot end (2021-05-01) before it starts (2021-06-01)."],
    }
    assert (TreatmentLine.objects.count(), line_history_rows(), PatientVersion.objects.count()) == (0, [], 0)


def test_a_save_records_the_user_and_door_marks_the_results_stale_and_moves_the_version_on(site_a):
    patient = factories.make_patient(site_a)
    PatientDerivation.objects.create(
        patient=patient, is_stale=False, rules_version=1, settings_snapshot={}, derived_at=timezone.now(),
    )
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a])
    line = TreatmentLine(patient=patient, line_no=1, line_type=1, line_drug=2, line_start=date(2021, 6, 1))

    instance_save(instance=line, user=coordinator, door="admin")

    created = line.history.get()
    assert (created.history_type, created.history_user, created.history_change_reason) == ("+", coordinator, "admin")
    assert PatientDerivation.objects.get(patient=patient).is_stale is True
    assert current_versions([patient.pk])[patient.pk] == f"{patient.pk}.2"


def test_the_last_change_of_a_record_can_be_the_deletion_of_one_of_its_instances(site_a, monkeypatch):
    patient = factories.make_patient(site_a)
    line = factories.make_line(patient)
    deleter = factories.make_user("deleter", role=Role.COORDINATOR, sites=[site_a])
    monkeypatch.setattr(timezone, "now", lambda: datetime(2099, 6, 7, 8, 9, tzinfo=UTC))

    instance_delete(instance=line, user=deleter, door="admin")

    assert record_last_change(patient.pk) == LastChange(
        user_name="deleter", changed_at=datetime(2099, 6, 7, 8, 9, tzinfo=UTC),
    )
    assert TreatmentLine.history.get(history_type="-").history_change_reason == "admin"
    assert current_versions([patient.pk])[patient.pk] == f"{patient.pk}.2"


def test_the_version_check_of_a_page_passes_with_the_current_version_and_refuses_an_older_one(site_a):
    patient = factories.make_patient(site_a)
    factories.make_line(patient)
    PatientVersion.objects.create(patient=patient, number=3, changed_at=timezone.now())

    with transaction.atomic():
        passed = record_version_check(patient_id=patient.pk, expected_version=f"{patient.pk}.3")
        with pytest.raises(RecordChangedMeanwhile) as refused:
            record_version_check(patient_id=patient.pk, expected_version=f"{patient.pk}.2")

    assert passed == f"{patient.pk}.3"
    assert str(refused.value) == (
        f"{patient.record_id}: was changed since version {patient.pk}.2: it is at version "
        f"{patient.pk}.3 now; read it again, then send your change"
    )


def test_a_new_scan_and_its_new_measurements_are_saved_together_and_the_version_moves_once(site_a):
    from registry.models import LesionMeasurement, TumorAssessment

    patient = factories.make_patient(site_a)
    lesion = factories.make_lesion(patient, "L1-T1")
    before = current_versions([patient.pk])[patient.pk]
    scan = TumorAssessment(patient=patient, ta_date=date(2024, 5, 6))
    measurement = LesionMeasurement(patient=patient, assessment=scan, lesion=lesion, lm_status=1, lm_mm=20)

    instances_save(saved=[scan, measurement], user=None, door="workspace")

    assert LesionMeasurement.objects.get().assessment_id == scan.pk
    assert current_versions([patient.pk])[patient.pk] == f"{patient.pk}.{int(before.split('.')[1]) + 1}"


def test_a_new_measurement_whose_new_scan_is_not_saved_with_it_is_refused(site_a):
    from registry.models import LesionMeasurement, TumorAssessment

    patient = factories.make_patient(site_a)
    lesion = factories.make_lesion(patient, "L1-T1")
    scan = TumorAssessment(patient=patient, ta_date=date(2024, 5, 6))
    measurement = LesionMeasurement(patient=patient, assessment=scan, lesion=lesion, lm_status=1, lm_mm=20)

    with pytest.raises(ValidationError) as refused:
        instances_save(saved=[measurement], user=None, door="workspace")

    assert "assessment" in refused.value.message_dict
    assert (TumorAssessment.objects.count(), LesionMeasurement.objects.count()) == (0, 0)
