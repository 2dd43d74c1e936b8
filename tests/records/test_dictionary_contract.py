"""The shipped data dictionary and the models must never drift apart.

Every field of fixtures/data_dictionary.csv must exist on the model of its form, with a field
type that can hold it, the same required flag, and exactly the dictionary's codes and labels.
"""
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import models

from registry.records.dictionary import COLUMNS, DICTIONARY_PATH, data_dictionary
from registry.records.instruments import INSTRUMENTS, RECORD_ID, checkbox_attribute, flat_columns

DICTIONARY = data_dictionary()
FIELDS = [f for f in DICTIONARY.fields if f.name != RECORD_ID]
SHARED_SPEC = Path(settings.BASE_DIR).parent / "shared" / "spec"


def _model_field(dictionary_field):
    instrument = INSTRUMENTS[dictionary_field.form]
    reference = instrument.references.get(dictionary_field.name)
    if reference is not None:
        return reference.target._meta.get_field(reference.target_field)
    return instrument.model._meta.get_field(dictionary_field.name)


def test_every_form_of_the_dictionary_is_an_instrument_and_no_other():
    assert list(INSTRUMENTS) == DICTIONARY.forms


def test_the_shipped_dictionary_has_redcaps_eighteen_columns_and_record_id_first():
    assert len(COLUMNS) == 18
    assert DICTIONARY.fields[0].name == "record_id"
    assert DICTIONARY.fields[0].form == "enrollment"


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="the shared spec is not checked out beside the project")
def test_the_shipped_dictionary_is_the_shared_spec_byte_for_byte():
    assert DICTIONARY_PATH.read_bytes() == (SHARED_SPEC / "data-dictionary.csv").read_bytes()


@pytest.mark.parametrize("field", [f for f in FIELDS if f.field_type != "checkbox"], ids=lambda f: f.name)
def test_every_dictionary_field_is_a_model_field_of_a_matching_type(field):
    model_field = _model_field(field)

    if field.validation == "date_ymd":
        assert isinstance(model_field, models.DateField)
    elif field.validation == "integer":
        assert isinstance(model_field, models.IntegerField)
    elif field.validation == "number":
        assert isinstance(model_field, models.DecimalField)
    elif field.field_type in ("radio", "dropdown", "yesno"):
        assert isinstance(model_field, models.PositiveSmallIntegerField)
    else:
        assert field.field_type == "text"
        assert isinstance(model_field, models.CharField)


@pytest.mark.parametrize("field", [f for f in FIELDS if f.name not in ("lm_date", "lm_lesion", "var_bx_date")],
                         ids=lambda f: f.name)
def test_required_fields_are_required_by_the_model_and_others_may_be_blank(field):
    if field.field_type == "checkbox":
        return  # a checkbox option is always 0 or 1, never blank
    model_field = _model_field(field)

    assert model_field.blank is (not field.required)


@pytest.mark.parametrize("field", [f for f in FIELDS if f.field_type in ("radio", "dropdown", "yesno")],
                         ids=lambda f: f.name)
def test_coded_fields_store_exactly_the_dictionarys_codes_and_labels(field):
    model_choices = {str(code): str(label) for code, label in _model_field(field).choices}

    assert model_choices == field.choice_labels


@pytest.mark.parametrize("field", [f for f in FIELDS if f.field_type == "checkbox"], ids=lambda f: f.name)
def test_every_checkbox_option_is_a_boolean_field_labelled_with_its_choice(field):
    model = INSTRUMENTS[field.form].model
    # (its missing-data code, `<field>_missing`, is not an option: tests/models/test_checkbox_missing_codes.py)
    option_fields = {
        f.name for f in model._meta.get_fields()
        if f.name.startswith(f"{field.name}_") and f.concrete and f.name != f"{field.name}_missing"
    }

    assert option_fields == {checkbox_attribute(field.name, code) for code, _ in field.choices}
    for code, label in field.choices:
        model_field = model._meta.get_field(checkbox_attribute(field.name, code))
        assert isinstance(model_field, models.BooleanField)
        # The verbose name carries the choice's label, lower-cased after the first word in some cases.
        assert label.lower() in str(model_field.verbose_name).lower()


@pytest.mark.parametrize("field", [f for f in FIELDS if f.validation == "number"], ids=lambda f: f.name)
def test_number_fields_leave_the_dictionarys_minimum_and_maximum_to_the_soft_check(field):
    # REDCap saves a value outside Text Validation Min/Max once the user confirms it: here it is a soft
    # check (registry/records/soft_checks.py OUTSIDE_RANGE), so no model validator refuses it.
    model_field = _model_field(field)
    limits = {type(v).__name__: v.limit_value for v in model_field.validators if hasattr(v, "limit_value")}

    assert "MinValueValidator" not in limits and "MaxValueValidator" not in limits
    assert isinstance(model_field, models.DecimalField)


def test_every_instrument_has_its_record_status_field():
    for form, instrument in INSTRUMENTS.items():
        status = instrument.model._meta.get_field(f"{form}_complete")
        assert {code for code, _ in status.choices} == {0, 1, 2}


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="the shared spec is not checked out beside the project")
def test_the_flat_columns_are_those_of_the_shared_example_export():
    header = (SHARED_SPEC / "example-records.csv").read_text(encoding="utf-8").splitlines()[0]

    assert ",".join(flat_columns()) == header


def test_identifier_fields_of_the_dictionary_are_the_mrn_and_birth_date():
    # Read from the dictionary's "Identifier?" column: de-identified exports drop exactly these.
    assert [f.name for f in DICTIONARY.fields if f.identifier] == ["mrn", "birth_date"]
