"""Rules §8 (v2): every row of the endpoints table of evntdesc, cnsdtdsc, srcdom, srcvar and srcseq, for
patients stored, derived by the service and exported (data cut-off 2024-06-30, study_id ALK-REGISTRY).

Each expected value is worked out by hand from §4, §5 and the table; day counts are spelled out.
"""
from datetime import date

import pytest

from registry.models import AnalysisSettings, Patient
from registry.services.derivation import patients_derive
from tests import factories
from tests.exports.exported import export_records

pytestmark = pytest.mark.django_db
TABLE = ("evntdesc", "cnsdtdsc", "srcdom", "srcvar", "srcseq")


@pytest.fixture
def derived(site_a):
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": date(2024, 6, 30)})

    def derive():
        patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))

    return derive


def _rows(tmp_path):
    return {(row["record_id"], row["line_no"], row["paramcd"]): row for row in export_records(tmp_path, "endpoints")}


def _table(row):
    return tuple(row[column] for column in TABLE)


def test_progression_and_censoring_at_the_last_adequate_assessment_and_the_cut_off(site_a, derived, tmp_path):
    # Alectinib from 2020-03-10: PR reported 2020-05-05 (instance 1), PD reported 2020-09-01 (instance 2).
    # Lorlatinib from 2020-09-20 (a new line: the assessment of 2020-09-01 is line 1's): PR reported
    # 2021-01-05 (instance 3), nothing after; alive, last seen 2024-08-20, after the cut-off.
    patient = factories.make_patient(site_a, "E-1", vital=1, last_alive_date=date(2024, 8, 20))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10))
    factories.make_line(patient, 2, line_drug=7, line_start=date(2020, 9, 20))
    factories.make_assessment(patient, date(2020, 5, 5), ta_reported=2)
    factories.make_assessment(patient, date(2020, 9, 1), ta_reported=4)
    factories.make_assessment(patient, date(2021, 1, 5), ta_reported=2)
    derived()

    rows = _rows(tmp_path)

    # PFS line 1: progression on 2020-09-01, the second assessment entered.
    assert _table(rows["E-1", "1", "PFS"]) == ("PROGRESSION", "", "tumor_assessment", "ta_date", "2")
    # PFS line 2: no progression, no next line: censored at its last adequate assessment (instance 3),
    # reason cutoff.
    assert _table(rows["E-1", "2", "PFS"]) == (
        "CUTOFF", "LAST ADEQUATE TUMOR ASSESSMENT", "tumor_assessment", "ta_date", "3")
    # OS: last known alive 2024-08-20 is after the cut-off: censored at the cut-off.
    assert _table(rows["E-1", "1", "OS"]) == ("DATA CUTOFF", "DATA CUTOFF", "settings", "data_cutoff", "")
    row = rows["E-1", "2", "PFS"]
    # 2020-09-20 → 2021-01-05: 10 + 31 + 30 + 31 + 5 = 107 days.
    assert (row["startdt"], row["adt"], row["aval"], row["aval_days"], row["avalu"], row["cnsr"]) == (
        "2020-09-20", "2021-01-05", "107", "107", "DAYS", "1")
    assert (row["trtp"], row["param"], row["studyid"], row["usubjid"], row["subjid"], row["siteid"]) == (
        "LORLATINIB", "Progression-free survival (days)", "ALK-REGISTRY", "ALK-REGISTRY-E-1", "E-1", "site-a")


def test_death_ends_pfs_and_os_with_no_censoring_date_description(site_a, derived, tmp_path):
    # Alectinib from 2020-03-10, PR reported 2020-05-05, dead 2020-08-01: 88 days after that adequate
    # assessment (26 + 30 + 31 + 1), within the 182-day window: a PFS event, and an OS event.
    patient = factories.make_patient(site_a, "E-2", vital=2, death_date=date(2020, 8, 1))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10))
    factories.make_assessment(patient, date(2020, 5, 5), ta_reported=2)
    derived()

    rows = _rows(tmp_path)

    for paramcd in ("PFS", "OS"):
        row = rows["E-2", "1", paramcd]
        assert _table(row) == ("DEATH", "", "vital_status", "death_date", ""), paramcd
        # 2020-03-10 → 2020-08-01: 21 + 30 + 31 + 30 + 31 + 1 = 144 days.
        assert (row["cnsr"], row["adt"], row["aval"]) == ("0", "2020-08-01", "144")


def test_censoring_at_the_start_of_a_line_and_at_the_date_last_known_alive(site_a, derived, tmp_path):
    # Alectinib from 2020-03-10 with no assessment, lorlatinib from 2020-06-01 with none either; alive,
    # last seen 2021-01-15, before the cut-off and later than every other date of hers.
    patient = factories.make_patient(site_a, "E-3", vital=1, last_alive_date=date(2021, 1, 15))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10))
    factories.make_line(patient, 2, line_drug=7, line_start=date(2020, 6, 1))
    derived()

    rows = _rows(tmp_path)

    # PFS line 1: no adequate assessment and a next line: new_therapy, at line 1's start (instance 1), 0 days.
    assert _table(rows["E-3", "1", "PFS"]) == ("NEW_THERAPY", "START OF LINE", "treatment_line", "line_start", "1")
    assert rows["E-3", "1", "PFS"]["aval"] == "0"
    # PFS line 2: the last line, no adequate assessment: no_adequate_assessment, at its start (instance 2).
    assert _table(rows["E-3", "2", "PFS"]) == (
        "NO_ADEQUATE_ASSESSMENT", "START OF LINE", "treatment_line", "line_start", "2")
    # OS: last known alive 2021-01-15 from vital status (not a repeating form: no srcseq).
    assert _table(rows["E-3", "1", "OS"]) == (
        "LAST KNOWN ALIVE", "LAST KNOWN ALIVE", "vital_status", "last_alive_date", "")
    # 2020-03-10 → 2021-01-15: 21 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 + 15 = 311 days.
    assert rows["E-3", "1", "OS"]["aval"] == "311"


def test_death_after_missed_assessments_is_censored_at_the_last_adequate_assessment(site_a, derived, tmp_path):
    # PR reported 2020-05-05, dead 2021-01-15: 255 days later (26 + 30 + 31 + 31 + 30 + 31 + 30 + 31 + 15),
    # more than 182: PFS censored at that assessment (instance 1); OS is still a death.
    patient = factories.make_patient(site_a, "E-4", vital=2, death_date=date(2021, 1, 15))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10))
    factories.make_assessment(patient, date(2020, 5, 5), ta_reported=2)
    derived()

    rows = _rows(tmp_path)

    assert _table(rows["E-4", "1", "PFS"]) == (
        "DEATH_AFTER_MISSED_ASSESSMENTS", "LAST ADEQUATE TUMOR ASSESSMENT", "tumor_assessment", "ta_date", "1")
    assert _table(rows["E-4", "1", "OS"]) == ("DEATH", "", "vital_status", "death_date", "")
