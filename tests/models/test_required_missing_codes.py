"""Required fields take a missing-data code (issue 12 §4 follow-up): a value or a code, kept by the database
(registry/models/fields.py ValueOrCodeConstraint) beside "empty while coded"."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.models import Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine
from registry.records.missing_codes import NEVER_CODED, codable_fields
from tests.factories import make_biopsy, make_line, make_patient, make_site

pytestmark = pytest.mark.django_db

REQUIRED = {
    Patient: {"sex", "adv_dx_date"}, TreatmentLine: {"line_type", "line_drug"}, LocalTherapy: {"lt_type"},
    Lesion: {"les_class", "les_site"}, LesionMeasurement: {"lm_status"}, Biopsy: {"bx_specimen"},
    NgsVariant: {"var_gene", "var_kind"},
}


def test_every_required_field_of_the_dictionary_takes_a_code_but_those_that_identify_or_date_a_record():
    # The dictionary's required fields (Required Field? = y) less rules §0 v2's list.
    for model, names in REQUIRED.items():
        required_codable = {name for name in codable_fields(model) if not model._meta.get_field(name).blank}
        assert required_codable == names, model.__name__
        assert not names & NEVER_CODED


def test_a_required_field_stores_null_and_its_code():
    line = make_line(make_patient(make_site(), sex=None, sex_missing="UNK"), line_type=None, line_type_missing="NI")

    line.refresh_from_db()
    assert (line.line_type, line.line_type_missing) == (None, "NI")
    assert Patient.objects.values_list("sex", "sex_missing").get() == (None, "UNK")


def test_the_database_refuses_a_required_field_with_neither_a_value_nor_a_code():
    patient = make_patient(make_site())
    line = make_line(patient)
    variant = NgsVariant.objects.create(patient=patient, biopsy=make_biopsy(patient), redcap_repeat_instance=1,
                                        var_gene="ALK", var_kind=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(sex=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentLine.objects.filter(pk=line.pk).update(line_drug=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        NgsVariant.objects.filter(pk=variant.pk).update(var_gene="")  # text: "" is its blank

    assert Patient.objects.get().sex is not None and TreatmentLine.objects.get().line_drug is not None
    assert NgsVariant.objects.get().var_gene == "ALK"


def test_the_database_still_refuses_a_value_and_a_code_in_a_required_field():
    patient = make_patient(make_site())

    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(sex=1, sex_missing="UNK")

    assert Patient.objects.values_list("sex_missing", flat=True).get() == ""


def test_full_clean_refuses_a_blank_required_field_with_the_message_it_had_and_accepts_a_code():
    line = TreatmentLine(patient=make_patient(make_site()), redcap_repeat_instance=1, line_no=1, line_type=None,
                         line_drug=2, line_start=date(2020, 1, 1))

    with pytest.raises(ValidationError) as refused:
        line.full_clean()
    # The message of a NOT NULL column, as before the column became nullable.
    assert refused.value.message_dict == {"line_type": ["This field cannot be null."]}

    line.line_type_missing = "UNK"
    line.full_clean()  # a code instead of the value: accepted


def test_full_clean_names_a_text_required_field_left_blank_without_a_code():
    patient = make_patient(make_site())
    variant = NgsVariant(patient=patient, biopsy=make_biopsy(patient), redcap_repeat_instance=1, var_gene="",
                         var_kind=1)

    with pytest.raises(ValidationError) as refused:
        variant.full_clean()

    assert refused.value.message_dict == {"var_gene": ["This field cannot be blank."]}
    variant.var_gene_missing = "NA"
    variant.full_clean()
