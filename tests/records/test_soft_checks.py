"""The soft checks (registry/records/soft_checks.py), each with hand-worked cases and its boundary:
exactly the threshold asks nothing."""
from datetime import date
from decimal import Decimal

import pytest

from registry.models import LesionMeasurement, NgsVariant, TumorAssessment, WorkspaceSettings
from registry.records.soft_checks import (
    AFTER_DEATH, FUTURE_DATE, OUTSIDE_RANGE, SCAN_AFTER_DEATH, SCAN_AFTER_LINE_END, TARGET_CHANGE,
    instance_soft_checks, instances_soft_checks, soft_check_warnings,
)
from tests import factories

TODAY = date(2024, 6, 1)


def codes(checks):
    return [check.code for check in checks]


@pytest.fixture
def patient(site_a):
    return factories.make_patient(site_a, "SC-1")


# ---------------------------------------------------------------- one value alone


def test_a_date_after_today_asks_and_today_itself_does_not(patient):
    tomorrow = TumorAssessment(patient=patient, ta_date=date(2024, 6, 2), redcap_repeat_instance=1)
    today = TumorAssessment(patient=patient, ta_date=TODAY, redcap_repeat_instance=1)

    checks = instance_soft_checks(tomorrow, today=TODAY)

    assert codes(checks) == [FUTURE_DATE]
    assert checks[0].message == ("Date of this imaging time point (its first scan): 2024-06-02 is in the future "
                                 "(today is 2024-06-01).")
    assert instance_soft_checks(today, today=TODAY) == []


def test_a_value_outside_the_dictionarys_range_asks_and_the_limits_themselves_do_not(patient):
    # var_vaf: dictionary min 0, max 100 (percent).
    def vaf(value):
        return instance_soft_checks(NgsVariant(patient=patient, var_vaf=Decimal(value)), today=TODAY)

    assert vaf("100") == [] and vaf("0") == []
    (above,) = vaf("100.5")
    assert (above.code, above.field, above.value) == (OUTSIDE_RANGE, "var_vaf", "100.5")
    assert above.message.endswith("100.5 is above the expected maximum of 100.")
    (below,) = vaf("-1")
    assert below.message.endswith("-1 is below the expected minimum of 0.")


# ---------------------------------------------------------------- after death


def test_a_scan_after_death_asks_and_a_scan_on_the_day_of_death_does_not(patient, django_assert_num_queries):
    patient.death_date = date(2023, 5, 10)
    patient.save()
    after = TumorAssessment(patient=patient, ta_date=date(2023, 5, 11), redcap_repeat_instance=3)
    on_the_day = TumorAssessment(patient=patient, ta_date=date(2023, 5, 10), redcap_repeat_instance=3)

    # Queries: the settings, the death date, the lines (for scan_after_line_end).
    with django_assert_num_queries(3):
        checks = instance_soft_checks(after, today=TODAY)

    assert codes(checks) == [SCAN_AFTER_DEATH]
    assert checks[0].message.endswith("the scan of 2023-05-11 is 1 days after the patient's date of death "
                                      "(2023-05-10).")
    assert instance_soft_checks(on_the_day, today=TODAY) == []


def test_a_line_a_biopsy_and_a_local_therapy_after_death_ask(patient):
    patient.death_date = date(2023, 5, 10)
    patient.save()
    line = factories.make_line(patient, line_start=date(2023, 1, 1), line_end=date(2023, 6, 1))
    biopsy = factories.make_biopsy(patient, bx_date=date(2023, 5, 12))
    local = factories.make_local_therapy(patient, lt_date=date(2023, 5, 10))  # on the day: no question

    assert [(c.code, c.field) for c in instance_soft_checks(line, today=TODAY)] == [(AFTER_DEATH, "line_end")]
    assert [(c.code, c.field) for c in instance_soft_checks(biopsy, today=TODAY)] == [(AFTER_DEATH, "bx_date")]
    assert instance_soft_checks(local, today=TODAY) == []


def test_without_a_date_of_death_nothing_is_after_death(patient):
    assert instance_soft_checks(factories.make_biopsy(patient, bx_date=date(2023, 5, 12)), today=TODAY) == []


# ---------------------------------------------------------------- a scan long after its line ended


def test_a_scan_more_than_the_setting_after_the_last_line_ended_asks(patient):
    factories.make_line(patient, line_start=date(2022, 1, 1), line_end=date(2023, 1, 1))
    # Default setting 180 days. 2023-01-01 + 180 days = 2023-06-30 (31+28+31+30+31+29 = 180);
    # + 181 days = 2023-07-01.
    at_limit = TumorAssessment(patient=patient, ta_date=date(2023, 6, 30), redcap_repeat_instance=2)
    beyond = TumorAssessment(patient=patient, ta_date=date(2023, 7, 1), redcap_repeat_instance=2)

    assert instance_soft_checks(at_limit, today=TODAY) == []
    (check,) = instance_soft_checks(beyond, today=TODAY)
    assert (check.code, check.field, check.value) == (SCAN_AFTER_LINE_END, "ta_date", "2023-07-01")
    assert "is 181 days after the last line ended (2023-01-01)" in check.message
    assert "more than 180 days" in check.message


def test_the_line_end_setting_is_read_from_the_workspace_settings(patient):
    WorkspaceSettings.objects.create(pk=1, scan_after_line_end_days=30)
    factories.make_line(patient, line_start=date(2022, 1, 1), line_end=date(2023, 1, 1))
    # 2023-01-31 is 30 days after 2023-01-01: at the limit; 2023-02-01 is 31 days: beyond.
    assert instance_soft_checks(TumorAssessment(patient=patient, ta_date=date(2023, 1, 31)), today=TODAY) == []
    assert codes(instance_soft_checks(TumorAssessment(patient=patient, ta_date=date(2023, 2, 1)),
                                      today=TODAY)) == [SCAN_AFTER_LINE_END]


def test_an_ongoing_line_a_later_line_or_no_line_before_the_scan_do_not_ask(patient):
    scan = TumorAssessment(patient=patient, ta_date=date(2024, 1, 1))
    assert instance_soft_checks(scan, today=TODAY) == []  # no line at all: a baseline scan
    first = factories.make_line(patient, line_start=date(2022, 1, 1), line_end=date(2022, 6, 1))
    second = factories.make_line(patient, 2, line_start=date(2023, 10, 1))  # ongoing
    assert instance_soft_checks(scan, today=TODAY) == []
    second.line_end = date(2023, 12, 1)  # ended 31 days before the scan: recent enough
    second.save()
    assert instance_soft_checks(scan, today=TODAY) == []
    assert first.line_end == date(2022, 6, 1)  # 579 days before the scan, but a later line started since


def test_a_line_starting_after_the_scan_does_not_count_for_it(patient):
    factories.make_line(patient, line_start=date(2022, 1, 1), line_end=date(2022, 6, 1))
    factories.make_line(patient, 2, line_start=date(2024, 2, 1))  # after the scan
    # 2022-06-01 to 2024-01-01: 214 (rest of 2022) + 365 = 579 days > 180.
    (check,) = instance_soft_checks(TumorAssessment(patient=patient, ta_date=date(2024, 1, 1)), today=TODAY)
    assert "is 579 days after the last line ended (2022-06-01)" in check.message


# ---------------------------------------------------------------- a target lesion's change


@pytest.fixture
def lesion_at_20_mm(patient):
    """Target lesion L1 measured 20 mm on 2023-01-10 (and 40 mm on an earlier scan, 2022-10-10)."""
    lesion = factories.make_lesion(patient, "L1", les_class=1)
    first = factories.make_assessment(patient, date(2022, 10, 10))
    factories.make_measurement(first, lesion, lm_mm=Decimal("40"))
    baseline = factories.make_assessment(patient, date(2023, 1, 10))
    factories.make_measurement(baseline, lesion, lm_mm=Decimal("20"))
    return lesion


def unsaved_measurement(lesion, mm, scan=date(2023, 4, 10)):
    """A measurement on a new, unsaved scan, as the workspace's scan page builds it."""
    assessment = TumorAssessment(patient=lesion.patient, ta_date=scan)
    return LesionMeasurement(patient=lesion.patient, assessment=assessment, lesion=lesion, lm_status=1,
                             lm_mm=Decimal(mm))


def test_a_target_lesion_changing_by_more_than_the_setting_asks_at_the_limit_it_does_not(
        lesion_at_20_mm, django_assert_num_queries):
    # Compared with the latest earlier measurement, 20 mm (not 40 mm). Setting 50%: 20 * 1.5 = 30 mm and
    # 20 * 0.5 = 10 mm are exactly 50% away (no question); 30.01 mm is 50.05% larger, 9.99 mm 50.05% smaller.
    assert instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "30"), today=TODAY) == []
    assert instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "10"), today=TODAY) == []

    # Queries: the settings, the lesion with its measurements.
    with django_assert_num_queries(2):
        (larger,) = instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "30.01"), today=TODAY)
    (smaller,) = instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "9.99"), today=TODAY)

    assert (larger.code, larger.field, larger.value, larger.subject) == (TARGET_CHANGE, "lm_mm", "30.01", "L1")
    assert larger.message == ("Target lesion L1: 30.01 mm on 2023-04-10 is 50% larger than 20 mm on 2023-01-10; "
                              "changes of more than 50% are asked about (a typing slip?).")
    assert "9.99 mm on 2023-04-10 is 50% smaller than 20 mm" in smaller.message


def test_the_target_change_setting_is_read_from_the_workspace_settings(lesion_at_20_mm):
    WorkspaceSettings.objects.create(pk=1, target_change_percent=10)
    # 10% of 20 mm is 2 mm: 22 mm is at the limit, 22.5 mm beyond it (12.5%, shown rounded to 12%).
    assert instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "22"), today=TODAY) == []
    (check,) = instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "22.5"), today=TODAY)
    assert "is 12% larger" in check.message and "more than 10%" in check.message


def test_a_disappearance_and_a_non_target_lesion_do_not_ask(patient, lesion_at_20_mm):
    # 0 mm: the lesion disappeared (100% smaller); a complete response is an outcome, not a slip.
    assert instance_soft_checks(unsaved_measurement(lesion_at_20_mm, "0"), today=TODAY) == []
    non_target = factories.make_lesion(patient, "N1", les_class=2)
    factories.make_measurement(factories.make_assessment(patient, date(2023, 2, 1)), non_target, lm_mm=Decimal("10"))
    assert instance_soft_checks(unsaved_measurement(non_target, "40"), today=TODAY) == []


def test_a_target_lesion_with_no_earlier_diameter_does_not_ask(patient):
    lesion = factories.make_lesion(patient, "L2", les_class=1)
    later = factories.make_assessment(patient, date(2023, 9, 1))
    factories.make_measurement(later, lesion, lm_mm=Decimal("90"))  # later than the scan: not earlier
    assert instance_soft_checks(unsaved_measurement(lesion, "10"), today=TODAY) == []


def test_a_stored_measurement_is_compared_with_the_earlier_one_not_with_itself(patient, lesion_at_20_mm):
    scan = factories.make_assessment(patient, date(2023, 4, 10))
    stored = factories.make_measurement(scan, lesion_at_20_mm, lm_mm=Decimal("35"))
    # 35 mm against 20 mm: 75% larger.
    (check,) = instance_soft_checks(stored, today=TODAY)
    assert "is 75% larger than 20 mm" in check.message
    assert check.instance == stored.redcap_repeat_instance


# ---------------------------------------------------------------- the batch form and the warning shape


def test_checks_of_many_instances_cost_the_queries_of_one(patient, lesion_at_20_mm, django_assert_num_queries):
    patient.death_date = date(2023, 3, 1)
    patient.save()
    others = [factories.make_patient(patient.site, f"SC-{n}", death_date=date(2023, 3, 1)) for n in range(2, 5)]
    scans = [TumorAssessment(patient=p, ta_date=date(2023, 4, 1)) for p in [patient, *others]]
    stored = factories.make_measurement(factories.make_assessment(patient, date(2023, 2, 1)), lesion_at_20_mm,
                                        lm_mm=Decimal("31"))  # 31 mm against 20 mm: 55% larger
    measurement = LesionMeasurement.objects.select_related("assessment", "lesion").get(pk=stored.pk)

    # Queries: the settings, the death dates, the lines, the lesions with their measurements.
    with django_assert_num_queries(4):
        found = instances_soft_checks([*scans, measurement], today=TODAY)

    assert [codes(checks) for _, checks in found] == [[SCAN_AFTER_DEATH]] * 4 + [[TARGET_CHANGE]]


def test_one_function_shapes_the_warnings_of_every_door(patient):
    checks = instance_soft_checks(TumorAssessment(patient=patient, ta_date=date(2025, 1, 1), redcap_repeat_instance=4),
                                  today=TODAY)
    (warning,) = soft_check_warnings(checks, record="SC-1")
    assert warning.as_json() == {
        "record": "SC-1", "form": "tumor_assessment", "instance": 4, "field": "ta_date", "value": "2025-01-01",
        "check": FUTURE_DATE, "message": checks[0].message,
    }
