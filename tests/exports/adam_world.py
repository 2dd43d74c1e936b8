"""A small world of raw records for the `responses` and `tumor_sums` datasets, derived by the real
derivation (registry/services/derivation.py) with a data cut-off of 2024-06-30 and the default settings
(baseline window 60 days, SD counting from day 42). What every row should be is worked out by hand in
tests/exports/test_adam_datasets.py.

AD-1 (site-a):
- line 1, alectinib, from 2021-01-10; line 2, lorlatinib, from 2022-01-10.
- line 1's targets: L1-T1 and L1-T2, both lung (not nodal); line 2's target: L2-T1, lung.

    assessment   date         line 1: T1 + T2                       line 2: T1
    A0           2021-01-05   40 + 20 = 60 (line 1's baseline)
    A1           2021-02-01   30 + 12 = 42
    A2           2021-03-15   30 + not evaluated: sum unknown
    A3           2021-05-10   25 + 10 = 35
    A4           2021-08-02   35 + 16 = 51 (PD)
    A5           2022-01-10   40 + 18 = 58 (in line 1's window)      50 (line 2's baseline)
    A6           2022-03-01                                          disappeared: 0
    A7           2022-05-01                                          disappeared: 0

AD-2 (site-a): line 1, crizotinib, from 2023-01-01, with no assessment before it (no baseline); its
target L1-T1 (lung) measures 30 on B1 2023-01-21 (reported SD), 28 on B2 2023-02-20, and 20 on
B3 2024-08-01, after the cut-off.
"""
from datetime import date

from registry.models import AnalysisSettings
from registry.services.derivation import patients_derive
from tests import factories

DATA_CUTOFF = date(2024, 6, 30)
LUNG = 1
MEASURED, DISAPPEARED, NOT_EVALUATED = 1, 2, 5


def _measure(assessment, lesion, mm=None, status=MEASURED):
    factories.make_measurement(assessment, lesion, lm_status=status, lm_mm=mm)


def make_adam_world(site):
    first = factories.make_patient(site, "AD-1", vital=1, last_alive_date=date(2024, 5, 1))
    factories.make_line(first, 1, line_type=1, line_drug=2, line_start=date(2021, 1, 10), line_end=date(2022, 1, 9),
                        line_end_reason=1)
    factories.make_line(first, 2, line_type=1, line_drug=7, line_start=date(2022, 1, 10))
    t1 = factories.make_lesion(first, "L1-T1", les_line=1, les_class=1, les_site=LUNG)
    t2 = factories.make_lesion(first, "L1-T2", les_line=1, les_class=1, les_site=LUNG)
    second_line_target = factories.make_lesion(first, "L2-T1", les_line=2, les_class=1, les_site=LUNG)
    line_1_sums = {
        date(2021, 1, 5): (40, 20),
        date(2021, 2, 1): (30, 12),
        date(2021, 3, 15): (30, None),  # T2 not evaluated
        date(2021, 5, 10): (25, 10),
        date(2021, 8, 2): (35, 16),
        date(2022, 1, 10): (40, 18),
    }
    assessments = {}
    for ta_date, (t1_mm, t2_mm) in line_1_sums.items():
        assessment = assessments[ta_date] = factories.make_assessment(first, ta_date, ta_new_lesion=0)
        _measure(assessment, t1, t1_mm)
        if t2_mm is None:
            _measure(assessment, t2, status=NOT_EVALUATED)
        else:
            _measure(assessment, t2, t2_mm)
    _measure(assessments[date(2022, 1, 10)], second_line_target, 50)
    for ta_date in (date(2022, 3, 1), date(2022, 5, 1)):
        _measure(factories.make_assessment(first, ta_date, ta_new_lesion=0), second_line_target, status=DISAPPEARED)

    second = factories.make_patient(site, "AD-2", vital=1, last_alive_date=date(2024, 5, 1))
    factories.make_line(second, 1, line_type=1, line_drug=1, line_start=date(2023, 1, 1))
    target = factories.make_lesion(second, "L1-T1", les_line=1, les_class=1, les_site=LUNG)
    _measure(factories.make_assessment(second, date(2023, 1, 21), ta_new_lesion=0, ta_reported=3), target, 30)
    _measure(factories.make_assessment(second, date(2023, 2, 20), ta_new_lesion=0), target, 28)
    _measure(factories.make_assessment(second, date(2024, 8, 1), ta_new_lesion=0), target, 20)

    # Stored too: a data cut is frozen only with a cut-off in the settings.
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": DATA_CUTOFF})
    patients_derive(patient_ids=[first.id, second.id])
    return first, second
