"""Two cohort 1 patients, one per site, for the swimmer and waterfall plots: every value the plots
should draw is worked out by hand below from the records and the rules (docs in
registry/reports/study_figures.py), never read from the code under test.

Data cut-off 2022-01-01. Months are days / 30.4375 (rules §0).

A-1 (site A), dead on 2021-06-01:
  line 1 alectinib from 2020-01-01 (no end date; line 2 starts 2020-09-15), one target lesion:
    baseline 2019-12-20 50 mm; 2020-03-01 40 mm (-20 %, SD: 10×40 > 7×50); 2020-05-01 30 mm (-40 %,
    PR: 10×30 ≤ 7×50); 2020-08-01 45 mm (PD: 10×45 ≥ 12×30 and 45-30 ≥ 5 mm): pd_date 2020-08-01;
    2020-09-01 20 mm (-60 %), after the progression, so not part of the best change.
    Best change -40 %, best response PR.
  line 2 pemetrexed + platinum (chemotherapy) 2020-09-15 to 2021-01-10, no lesion: no waterfall bar.
  Days from 2020-01-01: line 2 start 258 (244 to 1 September + 14), pd 213, line 2 end 375
  (366 in 2020 + 9), death 517 (366 + 31+28+31+30+31).
B-1 (site B), alive, last known alive 2021-12-01:
  line 1 alectinib 2020-02-01 to 2020-04-10, one target lesion: baseline 2020-01-25 40 mm; 2020-04-01
    50 mm (+25 %, PD: 10×50 ≥ 12×40 and 10 mm ≥ 5 mm). Best change +25 %, best response PD.
  line 2 lorlatinib from 2020-04-20, no end date: ongoing at the end of follow-up; no lesion.
  Days from 2020-02-01: line 1 end 69, pd 60, line 2 start 79, follow-up 669 (366 to 2021-02-01 + 303).
"""
from datetime import date

from registry.models import AnalysisSettings, Patient
from registry.services.derivation import patients_derive
from tests import factories

CUTOFF = date(2022, 1, 1)
DAYS_PER_MONTH = 30.4375
ALECTINIB, LORLATINIB, PEMETREXED_PLATINUM = 2, 7, 20
ALK_TKI, CHEMOTHERAPY = 1, 2
DEAD, ALIVE = 2, 1


def _target_lesion_course(patient, line_no: int, les_id: str, sums_mm: dict[date, int]) -> None:
    lesion = factories.make_lesion(patient, les_id, les_line=line_no, les_class=1, les_site=1)
    for ta_date, millimetres in sums_mm.items():
        factories.make_measurement(factories.make_assessment(patient, ta_date), lesion, lm_mm=millimetres)


def build_figure_world(site_a, site_b) -> None:
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": CUTOFF})

    a1 = factories.make_patient(site_a, "A-1", vital=DEAD, death_date=date(2021, 6, 1))
    factories.make_line(a1, 1, line_type=ALK_TKI, line_drug=ALECTINIB, line_start=date(2020, 1, 1))
    factories.make_line(a1, 2, line_type=CHEMOTHERAPY, line_drug=PEMETREXED_PLATINUM, line_start=date(2020, 9, 15),
                        line_end=date(2021, 1, 10))
    _target_lesion_course(a1, 1, "A1-T1", {date(2019, 12, 20): 50, date(2020, 3, 1): 40, date(2020, 5, 1): 30,
                                           date(2020, 8, 1): 45, date(2020, 9, 1): 20})

    b1 = factories.make_patient(site_b, "B-1", vital=ALIVE, last_alive_date=date(2021, 12, 1))
    factories.make_line(b1, 1, line_type=ALK_TKI, line_drug=ALECTINIB, line_start=date(2020, 2, 1),
                        line_end=date(2020, 4, 10))
    factories.make_line(b1, 2, line_type=ALK_TKI, line_drug=LORLATINIB, line_start=date(2020, 4, 20))
    _target_lesion_course(b1, 1, "B1-T1", {date(2020, 1, 25): 40, date(2020, 4, 1): 50})

    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))


def months(days: int) -> float:
    return days / DAYS_PER_MONTH
