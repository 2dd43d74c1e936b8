"""A checkbox field's missing-data code in storage: one companion `<field>_missing` per checkbox field,
and the database keeps every real option unticked while it holds a code (issue 12 §4)."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.models import Patient, TumorAssessment
from registry.records.missing_codes import checkbox_code_columns, checkbox_code_suffix, coded_checkboxes
from tests.factories import make_assessment, make_patient, make_site

pytestmark = pytest.mark.django_db


def test_every_checkbox_field_of_the_dictionary_takes_a_code():
    assert coded_checkboxes(Patient) == {"alk_method": tuple(f"alk_method_{code}" for code in range(1, 6))}
    assert coded_checkboxes(TumorAssessment) == {
        "ta_scope": tuple(f"ta_scope_{code}" for code in range(1, 6)),
        "ta_new_sites": tuple(f"ta_new_sites_{code}" for code in (*range(1, 13), 99)),
    }


def test_a_codes_column_is_named_as_redcap_names_a_checkbox_choice():
    # REDCap: `-` and `.` become `_`, the code is lowercased, anything else outside [a-z0-9_] is dropped.
    assert [checkbox_code_suffix(code) for code in ("UNK", "NA", "-1", "1.5", "A B")] == [
        "unk", "na", "_1", "1_5", "ab"]
    assert list(checkbox_code_columns("alk_method"))[:2] == ["alk_method___ni", "alk_method___unk"]


def test_a_coded_checkbox_stores_its_code_with_every_option_unticked():
    patient = make_patient(make_site(), alk_method_missing="UNK")

    patient.refresh_from_db()
    assert patient.alk_method_missing == "UNK"
    assert not any(getattr(patient, f"alk_method_{code}") for code in range(1, 6))
    assert patient.history.get().alk_method_missing == "UNK"


def test_the_database_refuses_a_ticked_option_and_a_code_together():
    site = make_site()
    patient = make_patient(site, alk_method_2=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(site, "EX-2", alk_method_1=True, alk_method_missing="NI")
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(alk_method_missing="UNK")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_assessment(patient, ta_scope_3=True, ta_scope_missing="ND")

    assert list(Patient.objects.values_list("record_id", "alk_method_missing")) == [(patient.record_id, "")]
    assert not TumorAssessment.objects.exists()


def test_full_clean_refuses_a_ticked_option_and_a_code_with_a_message_naming_the_field():
    patient = make_patient(make_site(), alk_method_5=True)
    patient.alk_method_missing = "UNK"

    with pytest.raises(ValidationError) as refused:
        patient.full_clean()

    assert refused.value.messages == [
        "alk_method has a ticked option and a missing-data code; a checkbox field holds ticked options or a code, "
        "never both."]
    patient.alk_method_5 = False
    patient.full_clean()  # the code alone is accepted
