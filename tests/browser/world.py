"""The small registry the browser scenarios run in, dated relative to today so that the worklist's
categories hold whatever day the tests run.

Patient B-101 (site A) is on first-line alectinib, started 300 days ago, and overdue for a scan: its last
scan was 130 days ago, beyond the 84-day interval on an ALK TKI plus the 14-day grace period
(WorkspaceSettings' defaults). Its three target lesions:

    lesion  site     baseline (day -310)  day -220  day -130 (nadir)
    L1-T1   lung     30 mm                20 mm     19 mm
    L1-T2   liver    20 mm                14 mm     13 mm
    L1-T3   adrenal  10 mm                 6 mm      6 mm
    sum              60 mm                40 mm     38 mm

The data manager (dm.schneider) sees every site: opens queries, locks and signs records.

B-102 (site A) is up to date (scanned 20 days ago), C-201 belongs to site B: the coordinator of site A
never sees it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractUser

from registry.models import Patient, Role
from registry.models.choices import AnatomicSite, LineType, Regimen
from tests import factories

PASSWORD = "pw-for-tests-only"  # tests/factories.make_user's
BASELINE_MM = {"L1-T1": 30, "L1-T2": 20, "L1-T3": 10}
FOLLOW_UP_MM = {"L1-T1": 20, "L1-T2": 14, "L1-T3": 6}
NADIR_MM = {"L1-T1": 19, "L1-T2": 13, "L1-T3": 6}
LESION_SITES = {"L1-T1": AnatomicSite.LUNG, "L1-T2": AnatomicSite.LIVER, "L1-T3": AnatomicSite.ADRENAL}
LINE_START_DAYS_AGO = 300


@dataclass(frozen=True)
class World:
    today: date
    coordinator: AbstractUser
    second_coordinator: AbstractUser
    administrator: AbstractUser
    data_manager: AbstractUser  # every site: queries, locks, signatures; enters no data
    overdue: Patient  # B-101
    up_to_date: Patient  # B-102
    other_site: Patient  # C-201

    @property
    def line_start(self) -> date:
        return self.today - timedelta(days=LINE_START_DAYS_AGO)


def build_world(today: date | None = None) -> World:
    today = today or date.today()
    site_a = factories.make_site("site-a", "Hospital A")
    site_b = factories.make_site("site-b", "Hospital B")
    coordinator = factories.make_user("maria.keller", role=Role.COORDINATOR, sites=[site_a])
    second = factories.make_user("jonas.weber", role=Role.COORDINATOR, sites=[site_a])
    administrator = factories.make_user("admin.registry", superuser=True)
    data_manager = factories.make_user("dm.schneider", role=Role.DATA_MANAGER)

    overdue = _patient_with_three_targets(site_a, "B-101", today)
    up_to_date = factories.make_patient(
        site_a, "B-102", adv_dx_date=today - timedelta(days=200), vital=1,
        last_alive_date=today - timedelta(days=20))
    factories.make_line(up_to_date, line_type=LineType.ALK_TKI, line_drug=Regimen.LORLATINIB,
                        line_start=today - timedelta(days=190))
    factories.make_assessment(up_to_date, today - timedelta(days=195), ta_nontarget=5)
    factories.make_assessment(up_to_date, today - timedelta(days=20), ta_nontarget=5, ta_new_lesion=0)
    other_site = factories.make_patient(site_b, "C-201", adv_dx_date=today - timedelta(days=400))
    factories.make_line(other_site, line_start=today - timedelta(days=390))
    factories.make_assessment(other_site, today - timedelta(days=300))
    return World(today=today, coordinator=coordinator, second_coordinator=second, administrator=administrator,
                 data_manager=data_manager, overdue=overdue, up_to_date=up_to_date, other_site=other_site)


def _patient_with_three_targets(site, record_id: str, today: date) -> Patient:
    patient = factories.make_patient(
        site, record_id, adv_dx_date=today - timedelta(days=330), vital=1,
        last_alive_date=today - timedelta(days=130))
    factories.make_line(patient, line_type=LineType.ALK_TKI, line_drug=Regimen.ALECTINIB,
                        line_start=today - timedelta(days=LINE_START_DAYS_AGO))
    lesions = {les_id: factories.make_lesion(patient, les_id, les_site=site_code)
               for les_id, site_code in LESION_SITES.items()}
    for days_ago, diameters in ((310, BASELINE_MM), (220, FOLLOW_UP_MM), (130, NADIR_MM)):
        # No non-target disease (5) and no new lesion (0): an assessment RECIST can read on its targets.
        assessment = factories.make_assessment(
            patient, today - timedelta(days=days_ago), ta_scope_1=True, ta_nontarget=5,
            ta_new_lesion=None if days_ago == 310 else 0)
        for les_id, mm in diameters.items():
            factories.make_measurement(assessment, lesions[les_id], lm_mm=mm)
    return patient
