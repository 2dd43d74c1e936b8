"""Invariants of the case report form: the database keeps what it can, clean() explains the rest."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.models import LesionMeasurement, Patient, TreatmentLine, TumorAssessment
from registry.records.soft_checks import OUTSIDE_RANGE, instance_soft_checks
from tests import factories


def _errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    return raised.value.message_dict


def test_the_database_refuses_a_line_that_ends_before_it_starts(site_a):
    patient = factories.make_patient(site_a)

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_line(patient, line_start=date(2021, 2, 1), line_end=date(2021, 1, 31))

    assert TreatmentLine.objects.count() == 0


def test_a_line_ending_on_its_start_day_is_allowed(site_a):
    # Rule §0: durations are end - start, same day = 0 days, and 0-day rows are kept.
    patient = factories.make_patient(site_a)

    line = factories.make_line(patient, line_start=date(2021, 2, 1), line_end=date(2021, 2, 1), line_end_reason=2)

    line.full_clean()


def test_a_line_ending_before_it_starts_is_explained_next_to_the_end_date(site_a):
    patient = factories.make_patient(site_a)
    line = TreatmentLine(patient=patient, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
                         line_start=date(2021, 2, 1), line_end=date(2021, 1, 31))

    assert _errors(line)["line_end"] == ["The line cannot end (2021-01-31) before it starts (2021-02-01)."]


def test_the_database_keeps_one_line_number_per_patient(site_a):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_line(patient, line_no=1, line_start=date(2021, 1, 1))

    assert TreatmentLine.objects.filter(patient=patient).count() == 1


def test_two_patients_may_both_have_a_first_line(site_a):
    first, second = factories.make_patient(site_a), factories.make_patient(site_a)

    factories.make_line(first, line_no=1)
    factories.make_line(second, line_no=1)

    assert TreatmentLine.objects.filter(line_no=1).count() == 2


def test_the_database_keeps_one_lesion_id_per_patient(site_a):
    patient = factories.make_patient(site_a)
    factories.make_lesion(patient, "L1-T1")

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_lesion(patient, "L1-T1")


def test_the_database_keeps_one_measurement_per_lesion_per_assessment(site_a):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    lesion = factories.make_lesion(patient)
    factories.make_measurement(assessment, lesion)

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_measurement(assessment, lesion)

    assert LesionMeasurement.objects.count() == 1


def test_the_database_keeps_one_assessment_per_date_per_patient(site_a):
    patient = factories.make_patient(site_a)
    factories.make_assessment(patient, date(2020, 6, 8))

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_assessment(patient, date(2020, 6, 8))

    assert TumorAssessment.objects.count() == 1


def test_the_database_refuses_a_death_before_birth(site_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_patient(site_a, birth_date=date(1965, 6, 15), death_date=date(1965, 6, 14), vital=2)

    assert Patient.objects.count() == 0


def test_a_death_before_birth_is_explained_next_to_the_death_date(site_a):
    patient = Patient(site=site_a, record_id="P-1", sex=1, adv_dx_date=date(2020, 1, 1),
                      birth_date=date(1965, 6, 15), death_date=date(1965, 6, 14), vital=2)

    assert _errors(patient)["death_date"] == [
        "The date of death (1965-06-14) cannot be before the date of birth (1965-06-15)."
    ]


def test_a_chemotherapy_regimen_cannot_be_an_alk_inhibitor_line(site_a):
    patient = factories.make_patient(site_a)
    line = TreatmentLine(patient=patient, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=20,
                         line_start=date(2021, 2, 1))

    assert _errors(line)["line_drug"] == [
        "Pemetrexed + platinum is chemotherapy, but the line is recorded as an ALK tyrosine kinase inhibitor."
    ]


def test_an_end_reason_without_an_end_date_is_refused(site_a):
    patient = factories.make_patient(site_a)
    line = TreatmentLine(patient=patient, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
                         line_start=date(2021, 2, 1), line_end_reason=1)

    assert _errors(line)["line_end_reason"] == ["A reason the line ended needs the end date of the line."]


def test_the_generation_is_asked_only_of_an_other_alk_inhibitor(site_a):
    patient = factories.make_patient(site_a)
    named = TreatmentLine(patient=patient, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=7,
                          line_start=date(2021, 2, 1), line_tki_generation=3)
    other = TreatmentLine(patient=patient, redcap_repeat_instance=2, line_no=2, line_type=1, line_drug=99,
                          line_drug_other="investigational ALK inhibitor", line_start=date(2022, 2, 1),
                          line_tki_generation=3)

    assert "line_tki_generation" in _errors(named)
    other.full_clean()
    # Dictionary annotation: lorlatinib is third generation; an "Other" inhibitor takes its stated one.
    assert (named.tki_generation, other.tki_generation) == (3, 3)


def test_a_measured_lesion_needs_a_diameter_and_only_a_measured_one_has_one(site_a):
    patient = factories.make_patient(site_a)
    assessment, lesion = factories.make_assessment(patient), factories.make_lesion(patient)
    measured_without = LesionMeasurement(patient=patient, assessment=assessment, lesion=lesion,
                                         redcap_repeat_instance=1, lm_status=1)
    disappeared_with = LesionMeasurement(patient=patient, assessment=assessment, lesion=lesion,
                                         redcap_repeat_instance=1, lm_status=2, lm_mm=Decimal("4"))

    assert _errors(measured_without)["lm_mm"] == ["A measured lesion needs its diameter in mm."]
    assert _errors(disappeared_with)["lm_mm"] == [
        "A diameter is recorded only when the lesion was measured; the status is 'Disappeared'."
    ]


def test_a_measurement_cannot_join_an_assessment_and_a_lesion_of_different_patients(site_a):
    first, second = factories.make_patient(site_a), factories.make_patient(site_a)
    assessment = factories.make_assessment(first)
    lesion = factories.make_lesion(second)
    measurement = LesionMeasurement(patient=first, assessment=assessment, lesion=lesion,
                                    redcap_repeat_instance=1, lm_status=1, lm_mm=Decimal("12.5"))

    assert _errors(measurement)["lesion"] == ["The lesion belongs to another patient."]


def test_a_diameter_above_the_dictionarys_500_mm_is_accepted_and_asked_about(site_a):
    # REDCap's range check is soft: the model accepts the value, the soft check asks about it.
    patient = factories.make_patient(site_a)
    measurement = LesionMeasurement(patient=patient, assessment=factories.make_assessment(patient),
                                    lesion=factories.make_lesion(patient), redcap_repeat_instance=1,
                                    lm_status=1, lm_mm=Decimal("500.5"))

    measurement.full_clean()  # no error
    assert [check.code for check in instance_soft_checks(measurement, today=date(2024, 1, 1))] == [OUTSIDE_RANGE]


def test_a_diameter_with_more_digits_than_the_column_holds_is_refused(site_a):
    patient = factories.make_patient(site_a)
    measurement = LesionMeasurement(patient=patient, assessment=factories.make_assessment(patient),
                                    lesion=factories.make_lesion(patient), redcap_repeat_instance=1,
                                    lm_status=1, lm_mm=Decimal("123456"))

    assert "lm_mm" in _errors(measurement)


def test_new_lesion_sites_need_new_lesions_to_be_answered_yes(site_a):
    patient = factories.make_patient(site_a)
    assessment = TumorAssessment(patient=patient, redcap_repeat_instance=1, ta_date=date(2021, 5, 3),
                                 ta_new_lesion=0, ta_new_sites_3=True)

    assert _errors(assessment)["ta_new_lesion"] == [
        "Sites of new lesions are ticked, but 'unequivocal new lesion(s)' is not Yes."
    ]


def test_a_record_id_with_spaces_is_refused(site_a):
    patient = Patient(site=site_a, record_id="EX 001", sex=1, adv_dx_date=date(2020, 1, 1))

    assert "record_id" in _errors(patient)
