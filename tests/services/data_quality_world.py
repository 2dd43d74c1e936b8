"""A seeded dataset with known data-quality violations, each worked out by hand from the rules
(registry/records/data_quality.py); tests/services/test_data_quality_rules.py states the hits.

Four records at two sites. Every field of every instrument they hold is filled with a valid value
unless a violation below says otherwise, so that each hit comes from exactly one planted fault.
"""
from datetime import date

from django.db import connection

from registry.models import Lesion, Patient, QualityRule, TumorAssessment
from tests import factories

COMPLETE_ENROLLMENT = {
    "mrn": "M-1", "birth_date": date(1960, 1, 1), "sex": 2, "smoking": 0, "histology": 1, "alk_method_1": True,
    "alk_variant": 1, "consent_date": date(2020, 3, 5), "adv_dx_date": date(2020, 3, 2), "stage_dx": 4,
    "cns_mets_dx": 0,
}
COMPLETE_LINE = {
    "line_type": 1, "line_drug": 2, "line_start": date(2020, 3, 10), "line_end": date(2021, 1, 10),
    "line_end_reason": 1, "line_ecog": 1, "line_cns_mets": 0, "line_beyond_pd": 0,
}
COMPLETE_ASSESSMENT = {"ta_scope_1": True, "ta_nontarget": 2, "ta_new_lesion": 0, "ta_symptoms": 0, "ta_reported": 3}

# Only SQLite's columns can hold a value of another type (PostgreSQL's typed columns refuse or
# convert it): rule C's planted fault exists on SQLite only.
WRONG_TYPE_POSSIBLE = connection.vendor == "sqlite"

# The three custom rules (one with datediff, one with arithmetic, one with not).
SCAN_LONG_AFTER_DEATH = 'datediff([death_date], [ta_date], "d", true) > 30'
# Precedence: 600 - 100 * 5 = 100 < 150 holds; read left to right, (600 - 100) * 5 = 2500 would not.
MEASUREMENT_ARITHMETIC = "[lm_mm] - 100 * 5 < 150"
NOT_ALIVE_LAST_SEEN_BEFORE_DEATH = 'not([vital] = "1") and [last_alive_date] <> [death_date]'


def build(site_a, site_b, user=None) -> dict[str, object]:
    # DQ-001 (site A): smoking blank (A); alk_variant 77, no such code (G, planted past the model's
    # choices as older data would be); line 1 names an "other" drug though its drug is alectinib (F:
    # line_drug_other is shown only if [line_drug] = '99'); assessment 1 has 12.5 new lesions (C: an
    # integer field; written past the model as older data would be). Alive, last seen 2023-01-01.
    p1 = factories.make_patient(site_a, "DQ-001", **{**COMPLETE_ENROLLMENT, "smoking": None},
                                vital=1, last_alive_date=date(2023, 1, 1))
    Patient.objects.filter(pk=p1.pk).update(alk_variant=77)
    factories.make_line(p1, 1, **COMPLETE_LINE, line_drug_other="Lorlatinib typo")
    assessment = factories.make_assessment(p1, date(2020, 6, 1), **{
        **COMPLETE_ASSESSMENT, "ta_new_lesion": 1, "ta_new_sites_3": True, "ta_new_count": 1})
    if WRONG_TYPE_POSSIBLE:  # SQLite keeps 12.5 in an integer column, as old data may hold
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TumorAssessment._meta.db_table} SET ta_new_count = 12.5 WHERE id = %s",
                           [assessment.pk])

    # DQ-002 (site B): dead on 2022-01-01, last seen alive 2021-12-01 (custom rule 3); a scan on
    # 2022-03-01, 59 days after death (custom rule 1); target lesion L1-T1 measured 600 mm, above the
    # dictionary's maximum of 500 (D; custom rule 2); lesion 2 has a blank identifier (A and B:
    # les_id is required; planted past the model).
    p2 = factories.make_patient(site_b, "DQ-002", **COMPLETE_ENROLLMENT, vital=2, death_date=date(2022, 1, 1),
                                death_cause=1, last_alive_date=date(2021, 12, 1))
    scan = factories.make_assessment(p2, date(2022, 3, 1), **COMPLETE_ASSESSMENT)
    lesion = factories.make_lesion(p2, "L1-T1")
    blank_id = factories.make_lesion(p2, "L2-T2")
    Lesion.objects.filter(pk=blank_id.pk).update(les_id="")
    factories.make_measurement(scan, lesion, lm_status=1, lm_mm=600)

    # DQ-003 (site A): 31 lesions, 30 of line 1 and the last of line 9. With DQ-002's two lesions of
    # line 1, les_line holds 33 values: 32 ones and a nine. Mean 41/33 = 1.2424; sample SD
    # sqrt((32 * 0.2424^2 + 7.7576^2) / 32) = sqrt(62.061 / 32) = 1.3926; the nine is
    # 7.7576 / 1.3926 = 5.57 SD from the mean (E), each one 0.17 SD. No vital status (not started).
    p3 = factories.make_patient(site_a, "DQ-003", **COMPLETE_ENROLLMENT)
    for number in range(1, 31):
        factories.make_lesion(p3, f"L{number}-N", les_line=1, les_class=2)
    factories.make_lesion(p3, "L31-N", les_line=9, les_class=2)

    # DQ-004 (site B): Dead without a date of death: vital status's last alive date, date of death and
    # cause of death are blank (A, three times: the last two are shown since [vital] = '2'); the
    # derivation flags it (dead_without_death_date).
    p4 = factories.make_patient(site_b, "DQ-004", **COMPLETE_ENROLLMENT, vital=2)

    rules = [QualityRule.objects.create(name="Scan more than 30 days after death", logic=SCAN_LONG_AFTER_DEATH,
                                        created_by=user),
             QualityRule.objects.create(name="Measurement arithmetic", logic=MEASUREMENT_ARITHMETIC, created_by=user),
             QualityRule.objects.create(name="Not alive, last seen before death",
                                        logic=NOT_ALIVE_LAST_SEEN_BEFORE_DEATH, created_by=user)]
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "rules": rules}
