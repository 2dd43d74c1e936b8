"""A registry of N derived patients with every kind of row, for ordering, access and query tests."""
from datetime import date
from decimal import Decimal

from tests import factories
from tests.exports.stored_results import (
    make_assessment_derivation, make_biopsy_derivation, make_line_derivation, make_patient_derivation,
)


def make_derived_patient(site, record_id: str):
    """Two lines, an assessment and a biopsy, each with its stored derivation. Line 1 has a baseline
    sum (60 mm) and the assessment a known one (42 mm): a row each in `tumor_sums`."""
    patient = factories.make_patient(site, record_id)
    make_patient_derivation(patient, cohort=1, tki_sequence="alectinib>lorlatinib")
    first = factories.make_line(patient, 1, line_start=date(2020, 3, 10), line_end=date(2021, 9, 14), line_end_reason=1)
    second = factories.make_line(patient, 2, line_drug=7, line_start=date(2021, 9, 20))
    make_line_derivation(first, pd_date=date(2021, 8, 30), pfs_event=True, pfs_event_type="progression",
                         pfs_days=538, pfs_months=Decimal("17.675565"), baseline_date=date(2020, 3, 4),
                         baseline_sum_mm=Decimal("60"))
    make_line_derivation(second, pfs_event=False, pfs_censor_reason="cutoff")
    assessment = factories.make_assessment(patient, date(2021, 8, 30))
    make_assessment_derivation(assessment, first, overall_response="PD", target_sum_mm=Decimal("42"),
                               pct_change_baseline=Decimal("-30"), nadir_mm=Decimal("60"),
                               pct_change_nadir=Decimal("-30"))
    biopsy = factories.make_biopsy(patient, date(2021, 9, 2))
    make_biopsy_derivation(biopsy, phase="post_2g", mechanism_category="none_identified")
    return patient
