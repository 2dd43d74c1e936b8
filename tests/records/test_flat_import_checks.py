"""The import's model checks are full_clean()'s, also for values it has accepted before."""
import copy
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry.models import LesionMeasurement, Patient, TreatmentLine, TumorAssessment
from registry.records.flat_import import _ModelChecks


def _full_clean_errors(instance) -> dict | None:
    foreign_keys = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    try:
        instance.full_clean(exclude=foreign_keys, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return error.message_dict
    return None


def _import_check_errors(checks: _ModelChecks, instance) -> dict | None:
    try:
        checks.full_clean(instance)
    except ValidationError as error:
        return error.message_dict
    return None


def _patient(**values) -> Patient:
    return Patient(**{"record_id": "A-1", "sex": 1, "adv_dx_date": date(2020, 1, 1), **values})


def _measurement(**values) -> LesionMeasurement:
    return LesionMeasurement(**{"patient_id": 1, "redcap_repeat_instance": 1, "lm_status": 1, **values})


CASES = [
    # Each: instances checked in turn by one _ModelChecks, which remembers what it accepted.
    pytest.param([_patient(), _patient(record_id="BAD ID"), _patient(record_id="A 1")], id="record ID pattern"),
    pytest.param([_measurement(lm_mm=Decimal("1.5")), _measurement(lm_mm=Decimal("1.500")),
                  _measurement(lm_mm=Decimal("1.50"))], id="decimal places of an equal value"),
    pytest.param([_measurement(lm_mm=Decimal("12")), _measurement(lm_mm=Decimal("500.01")),
                  _measurement(lm_mm=Decimal("-1"))], id="decimal range"),
    pytest.param([_patient(sex=1), _patient(sex=True), _patient(sex=7), _patient(sex=None)], id="choices, null"),
    pytest.param([_patient(mrn="M" * 50), _patient(mrn="M" * 51), _patient(mrn="M" * 51)], id="max length"),
    pytest.param([TumorAssessment(patient_id=1, redcap_repeat_instance=1, ta_date=date(2020, 1, 1), ta_new_count=2,
                                  ta_new_lesion=1),
                  TumorAssessment(patient_id=1, redcap_repeat_instance=2, ta_date=date(2020, 1, 1), ta_new_count=0,
                                  ta_new_lesion=1),
                  TumorAssessment(patient_id=1, redcap_repeat_instance=3, ta_date=date(2020, 1, 1), ta_new_count=2),
                  # Beyond PostgreSQL's integer (SQLite's integers are larger): the column's range.
                  TumorAssessment(patient_id=1, redcap_repeat_instance=4, ta_date=date(2020, 1, 1),
                                  ta_new_count=99_999_999_999, ta_new_lesion=1)],
                 id="integer minimum, column range and clean()"),
    pytest.param([TreatmentLine(patient_id=1, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
                                line_start=date(2020, 1, 1), line_end=date(2019, 1, 1)),
                  TreatmentLine(patient_id=1, redcap_repeat_instance=2, line_no=0, line_type=1, line_drug=2,
                                line_start=date(2020, 1, 1), line_end_reason=1)],
                 id="clean() beside field errors"),
]


@pytest.mark.parametrize("instances", CASES)
def test_the_import_checks_an_instance_as_full_clean_does_after_accepting_others(instances):
    checks = _ModelChecks(type(instances[0]))

    for _ in range(2):  # the second time, the values accepted the first time are remembered
        for instance in instances:
            checked, cleaned = copy.deepcopy(instance), copy.deepcopy(instance)
            assert _import_check_errors(checks, checked) == _full_clean_errors(cleaned)
            assert checked.__dict__.keys() == cleaned.__dict__.keys()
            assert [(type(value), value) for name, value in checked.__dict__.items() if name != "_state"] == [
                (type(value), value) for name, value in cleaned.__dict__.items() if name != "_state"
            ]


def test_cases_include_refusals_of_values_equal_to_accepted_ones():
    checks = _ModelChecks(LesionMeasurement)
    checks.full_clean(_measurement(lm_mm=Decimal("1.5")))

    with pytest.raises(ValidationError) as refused:
        checks.full_clean(_measurement(lm_mm=Decimal("1.500")))

    assert refused.value.message_dict == {"lm_mm": ["Ensure that there are no more than 2 decimal places."]}


def test_a_true_is_not_taken_for_an_accepted_one():
    # sex=1 accepted; True == 1 and hashes alike, but it is another type, so it is checked again.
    checks = _ModelChecks(Patient)
    checks.full_clean(_patient(sex=1))
    patient = _patient(sex=True)

    checks.full_clean(patient)

    assert type(patient.sex) is int  # cleaned by the field, as full_clean() cleans it
