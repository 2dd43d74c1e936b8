"""Records for the record home tests, built with the factories (no door: their versions stay at 1)."""
from datetime import date

from registry.models import AnalysisSettings
from tests import factories

CUTOFF = date(2023, 6, 30)


def analysis_cutoff(day: date = CUTOFF) -> AnalysisSettings:
    return AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": day})[0]


def progression_after_cutoff(site, record_id: str = "P-LATE"):
    """Line 1 alectinib from 2023-01-10; a lung target lesion of 40 mm at baseline (2023-01-05), 26 mm on
    2023-04-05 (PR), and a scan on 2023-09-01, after the cut-off 2023-06-30, with 36 mm and a new brain
    lesion (PD, CNS progression)."""
    patient = factories.make_patient(site, record_id, vital=1, last_alive_date=date(2023, 9, 1),
                                     adv_dx_date=date(2022, 12, 20))
    factories.make_line(patient, 1, line_start=date(2023, 1, 10))
    lesion = factories.make_lesion(patient, "L1-T1", les_line=1, les_class=1, les_site=1)
    for day, mm, extra in (
        (date(2023, 1, 5), 40, {}),
        (date(2023, 4, 5), 26, {}),
        (date(2023, 9, 1), 36, {"ta_new_lesion": 1, "ta_new_sites_3": True, "ta_new_count": 1}),
    ):
        assessment = factories.make_assessment(patient, day, **extra)
        factories.make_measurement(assessment, lesion, lm_status=1, lm_mm=mm)
    return patient
