"""Missing-data codes in storage: a companion `<field>_missing` beside each codable field, kept by the
database (issue 12 §4; registry/records/missing_codes.py, registry/models/fields.py)."""
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction

from registry.models import Biopsy, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine, TumorAssessment
from registry.records.missing_codes import (
    DEFAULT_MISSING_DATA_CODES, NEVER_CODED, check_missing_data_codes, codable_fields, missing_code_choices,
    missing_column, parse_missing_data_codes,
)
from tests.factories import make_line, make_patient, make_site

pytestmark = pytest.mark.django_db


def test_the_default_codes_are_redcaps_seven():
    assert list(DEFAULT_MISSING_DATA_CODES) == ["NI", "UNK", "NASK", "ASKU", "NA", "NAVU", "ND"]
    assert ("UNK", "UNK Unknown") in missing_code_choices()


def test_a_treatment_line_codes_every_field_but_those_that_identify_or_date_it():
    # The treatment_line form (data dictionary): line_no and line_start identify and date the line
    # (rules §0 v2) and take no code; line_type and line_drug are required and take one, as the other seven.
    assert codable_fields(TreatmentLine) == (
        "line_type", "line_drug", "line_drug_other", "line_tki_generation", "line_end", "line_end_reason", "line_ecog", "line_cns_mets",
        "line_beyond_pd",
    )
    assert codable_fields("vital_status") == ("last_alive_date", "vital", "death_date", "death_cause")


def test_no_field_that_identifies_or_dates_a_record_and_no_status_takes_a_code():
    for model in (Patient, TreatmentLine, TumorAssessment, LesionMeasurement, Biopsy, NgsVariant, LocalTherapy):
        codable = set(codable_fields(model))
        assert not codable & NEVER_CODED
        assert not {name for name in codable if name.endswith("_complete")}
        for name in codable:
            assert model._meta.get_field(missing_column(name)).default == ""


def test_a_coded_field_stores_null_and_its_code():
    line = make_line(make_patient(make_site()), line_end_missing="UNK")

    line.refresh_from_db()
    assert line.line_end is None
    assert line.line_end_missing == "UNK"


def test_the_database_refuses_a_value_and_a_code_together():
    patient = make_patient(make_site())

    with pytest.raises(IntegrityError), transaction.atomic():
        make_line(patient, line_end=date(2021, 1, 1), line_end_missing="UNK")
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(mrn="123", mrn_missing="NASK")

    assert not TreatmentLine.objects.exists()
    assert Patient.objects.get(pk=patient.pk).mrn == ""


def test_full_clean_names_a_value_given_with_a_code_and_an_unknown_code():
    line = TreatmentLine(
        patient=make_patient(make_site()), redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
        line_start=date(2020, 1, 1), line_end=date(2021, 1, 1), line_end_missing="XX",
    )

    with pytest.raises(ValidationError) as refused:
        line.full_clean()

    assert "line_end_missing" in refused.value.message_dict  # XX is not a code
    line.line_end_missing = "UNK"
    with pytest.raises(ValidationError) as refused:
        line.full_clean()
    assert refused.value.messages == ["line_end holds a value and a missing-data code; it can hold only one of them."]


def test_a_coded_end_date_may_carry_the_reason_the_line_ended():
    line = TreatmentLine(
        patient=make_patient(make_site()), redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
        line_start=date(2020, 1, 1), line_end_missing="UNK", line_end_reason=1,
    )

    line.full_clean()  # no error: the line ended, on a date not known


def test_the_audit_trail_keeps_the_code():
    line = make_line(make_patient(make_site()), line_end_missing="ASKU")

    assert line.history.get().line_end_missing == "ASKU"


def test_the_code_list_setting_is_read_as_code_label_pairs():
    assert parse_missing_data_codes("UNK=Unknown, ND=Not done", name="X") == {"UNK": "Unknown", "ND": "Not done"}


@pytest.mark.parametrize("text, message", [
    ("unk=Unknown", "'unk' must be 1 to 8 capital letters"),
    ("99=Unknown", "'99' must be 1 to 8 capital letters"),
    ("UNK", "must list CODE=label pairs"),
    ("UNK=Unknown,UNK=Again", "names the missing-data code 'UNK' twice"),
    ("UNK=", "'UNK' needs a label"),
])
def test_a_malformed_code_list_is_refused_naming_the_setting(text, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_missing_data_codes(text, name="REGISTRY_MISSING_DATA_CODES")

    assert str(refused.value).startswith("REGISTRY_MISSING_DATA_CODES")
    assert message in str(refused.value)


def test_an_empty_code_list_is_refused():
    with pytest.raises(ImproperlyConfigured):
        check_missing_data_codes({})
