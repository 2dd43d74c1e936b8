"""Stored records with missing-data codes, derived end to end: the selector carries the codes the
rules read (rules §0 v2) and the stored results say 'unknown' (issue 12 §4)."""
from datetime import date

import pytest

from registry.models import AnalysisSettings, AssessmentDerivation, LineDerivation, PatientDerivation
from registry.selectors.derivation_inputs import patient_records
from registry.services.derivation import patients_derive
from tests import factories


@pytest.fixture
def coded_patient(site_a, db):
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 1, 1))
    patient = factories.make_patient(site_a, "P-CODED", vital=2, death_date_missing="UNK",
                                     last_alive_date=date(2021, 6, 30))
    factories.make_line(patient, line_start=date(2020, 3, 10), line_end_missing="NAVU")
    factories.make_assessment(patient, date(2020, 3, 4))
    factories.make_assessment(patient, date(2020, 6, 1), ta_reported=2, ta_new_lesion_missing="ASKU")
    return patient


def test_the_selector_carries_the_codes_the_rules_read(coded_patient):
    record = patient_records([coded_patient.id])[coded_patient.id]

    assert (record.death_date, record.death_date_missing) == (None, "UNK")
    assert (record.lines[0].line_end, record.lines[0].line_end_missing) == (None, "NAVU")
    assert [assessment.ta_new_lesion_missing for assessment in record.assessments] == ["", "ASKU"]


def test_the_stored_results_say_unknown_and_flag_each_code(coded_patient):
    patients_derive(patient_ids=[coded_patient.id])

    # The 2020-06-01 time point: reported PR (code 2), new lesions unknown → NE, new_lesions unknown.
    assessment = AssessmentDerivation.objects.get(ta_date=date(2020, 6, 1))
    assert (assessment.overall_response, assessment.new_lesions) == ("NE", None)
    # OS from the line start 2020-03-10, censored at last known alive 2021-06-30: 477 days
    # (2020-03-10 → 2021-03-10 is 365 days, → 2021-06-30 is 112 more).
    line = LineDerivation.objects.get()
    assert (line.os_event, line.os_days) == (False, 477)
    stored = PatientDerivation.objects.get()
    assert stored.flag_codes == ";new_lesions_coded;line_end_coded;death_date_coded;"
