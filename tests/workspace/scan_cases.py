"""A patient whose line 1 has three target lesions and one non-target lesion, for the scan entry tests.

Hand-worked history (RECIST 1.1 as docs/derivation-rules.md §2 states it):

    line 1 (alectinib) starts 2024-01-10
    2024-01-05  baseline:  L1-T1 30, L1-T2 20, L1-T3 10  → baseline sum 60 mm
    2024-03-05  follow-up: L1-T1 20, L1-T2 12, L1-T3  8  → sum 40 mm; 10 × 40 = 400 ≤ 7 × 60 = 420: PR;
                                                            nadir 40 mm from here on
    L1-N1 (lymph node, non-target): present, not measured, at both → Non-CR/Non-PD
"""
from dataclasses import dataclass
from datetime import date

from django.urls import reverse

from registry.models import Patient
from tests import factories

LINE_1_START = date(2024, 1, 10)
BASELINE = date(2024, 1, 5)
FOLLOW_UP = date(2024, 3, 5)
SCAN_DATE = "2024-05-06"
PRESENT_NOT_MEASURED = 6


@dataclass
class ScanPatient:
    patient: Patient

    @property
    def new_url(self) -> str:
        return reverse("workspace:scan_new", args=[self.patient.record_id])

    def edit_url(self, instance: int) -> str:
        return reverse("workspace:scan", args=[self.patient.record_id, instance])


def make_scan_patient(site, record_id="SCAN-1") -> ScanPatient:
    patient = factories.make_patient(site, record_id, vital=1)
    factories.make_line(patient, 1, line_start=LINE_1_START)
    lesions = {
        "L1-T1": factories.make_lesion(patient, "L1-T1", les_site=1),
        "L1-T2": factories.make_lesion(patient, "L1-T2", les_site=8),
        "L1-T3": factories.make_lesion(patient, "L1-T3", les_site=1),
        "L1-N1": factories.make_lesion(patient, "L1-N1", les_class=2, les_site=2),
    }
    for ta_date, values in ((BASELINE, (30, 20, 10)), (FOLLOW_UP, (20, 12, 8))):
        assessment = factories.make_assessment(patient, ta_date, ta_new_lesion=0)
        for les_id, mm in zip(("L1-T1", "L1-T2", "L1-T3"), values):
            factories.make_measurement(assessment, lesions[les_id], lm_status=1, lm_mm=mm)
        factories.make_measurement(assessment, lesions["L1-N1"], lm_status=PRESENT_NOT_MEASURED, lm_mm=None)
    return ScanPatient(patient)


def scan_post(mm=("", "", ""), *, ta_date=SCAN_DATE, nontarget=str(PRESENT_NOT_MEASURED), new_lesion="0",
              rows_for=SCAN_DATE, version="", **extra) -> dict:
    """The scan form as a coordinator fills it in: today's diameters of L1-T1..T3 and the non-target status."""
    data = {
        "ta_date": ta_date, "ta_scope": ["1"], "ta_new_lesion": new_lesion, "tumor_assessment_complete": "2",
        "rows_for": rows_for, "lesions_shown": "L1-T1 L1-T2 L1-T3 L1-N1", "record_version": version,
        "status-L1-N1": nontarget,
    }
    for les_id, value in zip(("L1-T1", "L1-T2", "L1-T3"), mm):
        data[f"mm-{les_id}"] = str(value)
        data[f"status-{les_id}"] = ""
    data.update(extra)
    return data


def page_text(response) -> str:
    """The response's text as a reader sees it: tags removed, whitespace collapsed."""
    import html
    import re

    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
