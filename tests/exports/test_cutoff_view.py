"""Rules §0 (v2): the analysis datasets show the records as they stood at the cut-off, for a patient
stored, derived by the service and exported (data cut-off 2024-06-30).

"Cut-01": alectinib from 2020-03-10 ended 2024-08-15 (after the cut-off) for progression; PR reported
2020-05-05; lorlatinib from 2024-09-01 (after the cut-off); biopsies on 2021-03-01 and 2024-09-10 (after);
an assessment on 2024-08-01 (after); dead on 2024-10-01 (after): at the cut-off she was alive, on
alectinib, with one line, one biopsy and one follow-up assessment.
"""
from datetime import date

import pytest

from registry.models import AnalysisSettings, Patient
from registry.services.derivation import patients_derive
from tests import factories
from tests.exports.exported import export_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(site_a, tmp_path):
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": date(2024, 6, 30)})
    patient = factories.make_patient(site_a, "Cut-01", vital=2, death_date=date(2024, 10, 1))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10), line_end=date(2024, 8, 15),
                        line_end_reason=1)
    factories.make_line(patient, 2, line_drug=7, line_start=date(2024, 9, 1))
    factories.make_assessment(patient, date(2020, 5, 5), ta_reported=2)
    factories.make_assessment(patient, date(2024, 8, 1), ta_reported=4)
    factories.make_biopsy(patient, date(2021, 3, 1))
    factories.make_biopsy(patient, date(2024, 9, 10))
    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))
    return lambda name: export_records(tmp_path, name)


def test_a_line_after_the_cut_off_has_no_row_and_a_line_end_after_it_is_blank_with_its_reason(exported):
    lines = exported("lines")

    assert [(row["line_no"], row["line_end"], row["line_end_reason"]) for row in lines] == [("1", "", "")]
    assert [(row["line_no"], row["paramcd"]) for row in exported("endpoints")] == [("1", "PFS"), ("1", "OS")]


def test_an_assessment_and_a_biopsy_after_the_cut_off_have_no_row(exported):
    assert [row["ta_date"] for row in exported("assessments")] == ["2020-05-05"]
    assert [row["bx_date"] for row in exported("biopsies")] == ["2021-03-01"]


def test_a_death_after_the_cut_off_is_not_a_death_in_any_dataset(exported):
    (patient,) = exported("patients")
    os_row = next(row for row in exported("endpoints") if row["paramcd"] == "OS")
    (line,) = exported("lines")

    # alive at the cut-off: no death date, last known alive = the cut-off, one line started by then
    assert (patient["death_date"], patient["last_known_alive_date"], patient["n_lines"]) == ("", "2024-06-30", "1")
    assert (patient["os_dx_event"], line["os_event"], line["os_censor_reason"]) == ("0", "0", "cutoff")
    assert (os_row["evntdesc"], os_row["cnsr"], os_row["adt"]) == ("DATA CUTOFF", "1", "2024-06-30")


def test_a_death_on_the_cut_off_is_one(site_a, tmp_path):
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": date(2024, 6, 30)})
    patient = factories.make_patient(site_a, "Cut-02", vital=2, death_date=date(2024, 6, 30))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10))
    patients_derive(patient_ids=[patient.id])

    (row,) = export_records(tmp_path, "patients")

    assert (row["death_date"], row["last_known_alive_date"], row["os_dx_event"]) == ("2024-06-30", "", "1")
