"""registry/derive/codes.py mirrors the dictionary's codes without Django; here the mirror is checked
against the models' choices (which tests/records/test_dictionary_contract.py checks against the
dictionary), so that a code changed in one place cannot silently change what a rule reads."""
import pytest

from registry.derive import codes
from registry.derive.lines import TKI_GENERATION_BY_DRUG
from registry.models import choices

PAIRS = [
    (codes.YesNo, choices.YesNo),
    (codes.Histology, choices.BiopsyHistology),  # the diagnosis codes plus 98, Not assessed
    (codes.LineType, choices.LineType),
    (codes.Regimen, choices.Regimen),
    (codes.LineEndReason, choices.LineEndReason),
    (codes.Site, choices.AnatomicSite),
    (codes.LocalTherapyIntent, choices.LocalTherapyIntent),
    (codes.NonTargetRead, choices.NonTargetRead),
    (codes.ReportedResponse, choices.ReportedResponse),
    (codes.LesionClass, choices.LesionClass),
    (codes.MeasurementStatus, choices.MeasurementStatus),
    (codes.VariantKind, choices.VariantKind),
    (codes.VitalStatus, choices.VitalStatus),
]


@pytest.mark.parametrize(("mirror", "model_choices"), PAIRS, ids=[mirror.__name__ for mirror, _ in PAIRS])
def test_every_code_the_rules_read_has_the_models_value_and_meaning(mirror, model_choices):
    # Same set of codes, and each under the same name (names carry the meaning: SQUAMOUS is 2 in both).
    assert {member.value for member in mirror} == set(model_choices.values)
    assert {member.name: member.value for member in mirror} == {
        member.name: member.value for member in model_choices if member.name in mirror.__members__
    }


def test_diagnosis_histology_codes_are_the_biopsy_codes_without_not_assessed():
    assert set(choices.Histology.values) == {code.value for code in codes.Histology} - {codes.Histology.NOT_ASSESSED}


def test_tki_generations_of_the_rules_are_the_dictionary_annotations():
    assert {int(drug): generation for drug, generation in TKI_GENERATION_BY_DRUG.items()} == {
        int(drug): generation for drug, generation in choices.TKI_GENERATION_BY_REGIMEN.items()
    }
