"""The worklist's categories, hand-worked (registry/selectors/worklist.py).

Today is 2024-07-01 throughout; the workspace settings are the defaults unless a test changes them:
scan interval 84 days on an ALK TKI, 42 on chemotherapy (with or without an anti-angiogenic), 42 on
other therapy, grace 14 days, vital status 180 days, recent 7 days.
"""
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from registry.models import PatientDerivation, PatientVersion, Patient, Role, WorkspaceSettings
from registry.models.choices import LineType, RecordStatus, Regimen, VitalStatus
from registry.selectors.worklist import (
    DATA_QUALITY_FLAGS, INCOMPLETE_FORMS, OPEN_QUERIES, OVERDUE_SCAN, RECENT, VITAL_STATUS, WorklistParameterError,
    worklist,
)
from tests import factories

TODAY = date(2024, 7, 1)
NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def coordinator(site_a):
    return factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])


def listed(user, category, **parameters):
    return worklist(user, category=category, today=TODAY, now=NOW, **parameters)


def record_ids(user, category, **parameters) -> list[str]:
    return [row.record_id for row in listed(user, category, **parameters).rows]


def on_line(site, record_id, *, last_scan=None, line_type=LineType.ALK_TKI, line_drug=Regimen.ALECTINIB,
            line_drug_other="", line_start=date(2023, 1, 2), line_end=None, **patient_values):
    """A living patient on one line, with one assessment on `last_scan` (none if None)."""
    patient = factories.make_patient(site, record_id, **{"vital": VitalStatus.ALIVE, **patient_values})
    factories.make_line(patient, line_type=line_type, line_drug=line_drug, line_drug_other=line_drug_other,
                        line_start=line_start, line_end=line_end)
    if last_scan is not None:
        factories.make_assessment(patient, ta_date=last_scan)
    return patient


def derived_with_flags(patient, flags: list[dict]) -> PatientDerivation:
    return PatientDerivation.objects.create(
        patient=patient, rules_version=1, settings_snapshot={}, derived_at=timezone.now(), flags=flags,
        flag_count=len(flags),
        flag_codes="".join(f";{code}" for code in sorted({flag["code"] for flag in flags})) + ";",
    )


# ---------------------------------------------------------------- overdue scans


def test_a_scan_on_an_alk_tki_is_overdue_only_once_interval_plus_grace_is_exceeded(site_a, coordinator):
    # 84 + 14 = 98 days. 2024-07-01 − 2024-03-25 = 98 days: not more than 98, not listed.
    # 2024-07-01 − 2024-03-24 = 99 days > 98: listed; due 2024-03-24 + 84 = 2024-06-16, 15 days ago.
    on_line(site_a, "AT-98", last_scan=date(2024, 3, 25))
    on_line(site_a, "AT-99", last_scan=date(2024, 3, 24))

    result = listed(coordinator, OVERDUE_SCAN)

    assert [row.record_id for row in result.rows] == ["AT-99"]
    row = result.rows[0]
    assert (row.day, row.due, row.days_overdue) == (date(2024, 3, 24), date(2024, 6, 16), 15)
    assert (row.what, row.detail) == ("Line 1 · Alectinib", "ALK tyrosine kinase inhibitor")
    assert row.url == "/records/AT-99/scans/new/"


def test_chemotherapy_with_or_without_an_anti_angiogenic_uses_the_chemotherapy_interval(site_a, coordinator):
    # 42 + 14 = 56 days: 2024-05-06 is 56 days before today (not listed), 2024-05-05 is 57 (listed).
    # The same 57 days on an ALK TKI (98 allowed) is not overdue.
    on_line(site_a, "CH-56", last_scan=date(2024, 5, 6), line_type=LineType.CHEMOTHERAPY,
            line_drug=Regimen.PEMETREXED_PLATINUM)
    on_line(site_a, "CH-57", last_scan=date(2024, 5, 5), line_type=LineType.CHEMOTHERAPY,
            line_drug=Regimen.PEMETREXED_PLATINUM)
    on_line(site_a, "CA-57", last_scan=date(2024, 5, 5), line_type=LineType.CHEMOTHERAPY_ANTIANGIOGENIC,
            line_drug=Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB)
    on_line(site_a, "TK-57", last_scan=date(2024, 5, 5))

    assert record_ids(coordinator, OVERDUE_SCAN, sort="record_id") == ["CA-57", "CH-57"]


def test_other_systemic_therapy_uses_its_own_interval_from_the_settings(site_a, coordinator):
    WorkspaceSettings.objects.create(pk=1, scan_interval_other_days=60)
    # 60 + 14 = 74 days: 2024-04-18 is 74 days before today (not listed); 57 days on chemotherapy is.
    on_line(site_a, "IO-74", last_scan=date(2024, 4, 18), line_type=LineType.IMMUNOTHERAPY,
            line_drug=Regimen.OTHER, line_drug_other="Pembrolizumab")
    on_line(site_a, "IO-75", last_scan=date(2024, 4, 17), line_type=LineType.IMMUNOTHERAPY,
            line_drug=Regimen.OTHER, line_drug_other="Pembrolizumab")
    on_line(site_a, "CH-57", last_scan=date(2024, 5, 5), line_type=LineType.CHEMOTHERAPY,
            line_drug=Regimen.DOCETAXEL)

    result = listed(coordinator, OVERDUE_SCAN, sort="record_id")

    assert [(row.record_id, row.what) for row in result.rows] == [
        ("CH-57", "Line 1 · Docetaxel"), ("IO-75", "Line 1 · Pembrolizumab")]


def test_without_any_scan_the_line_start_is_the_reference(site_a, coordinator):
    # Started 2024-03-24, 99 days ago, no assessment: overdue on an ALK TKI; started 2024-03-25: not yet.
    on_line(site_a, "NS-99", line_start=date(2024, 3, 24))
    on_line(site_a, "NS-98", line_start=date(2024, 3, 25))

    result = listed(coordinator, OVERDUE_SCAN)

    assert [(row.record_id, row.day, row.days_overdue) for row in result.rows] == [("NS-99", None, 15)]


def test_the_latest_scan_counts_even_when_it_was_taken_during_the_previous_line(site_a, coordinator):
    # Issue 11 read literally: the reference is the latest ta_date, whatever its line. The line started
    # 10 days ago; the last scan (of the line before) is 200 days old: overdue by 200 − 84 = 116 days.
    patient = on_line(site_a, "NEW-LINE", last_scan=date(2023, 12, 14), line_end=date(2024, 6, 1),
                      line_start=date(2023, 1, 2))
    factories.make_line(patient, line_no=2, line_type=LineType.ALK_TKI, line_drug=Regimen.LORLATINIB,
                        line_start=date(2024, 6, 21))

    result = listed(coordinator, OVERDUE_SCAN)

    assert [(row.record_id, row.what, row.days_overdue) for row in result.rows] == [
        ("NEW-LINE", "Line 2 · Lorlatinib", 116)]


def test_dead_patients_ended_lines_and_lines_not_started_yet_are_not_overdue(site_a, coordinator):
    old_scan = date(2023, 1, 9)  # far beyond any interval
    on_line(site_a, "DEAD", last_scan=old_scan, vital=VitalStatus.DEAD, death_date=date(2024, 2, 1))
    on_line(site_a, "DEATH-DATE", last_scan=old_scan, death_date=date(2024, 2, 1))  # "Alive" with a death date
    on_line(site_a, "ENDED", last_scan=old_scan, line_end=date(2023, 6, 1))
    on_line(site_a, "FUTURE", line_start=date(2024, 7, 2))
    on_line(site_a, "LOST", last_scan=old_scan, vital=VitalStatus.LOST_TO_FOLLOW_UP)  # not known dead: listed
    on_line(site_a, "BLANK", last_scan=old_scan, vital=None)

    assert record_ids(coordinator, OVERDUE_SCAN, sort="record_id") == ["BLANK", "LOST"]


def test_with_two_ongoing_lines_the_latest_started_decides_and_the_patient_is_listed_once(site_a, coordinator):
    # Last scan 2024-05-02, 60 days ago. On the ALK TKI (started first) that is within 98 days; the
    # chemotherapy line started later decides: 60 > 56, overdue by 60 − 42 = 18 days.
    patient = on_line(site_a, "TWO", last_scan=date(2024, 5, 2), line_start=date(2023, 1, 2))
    factories.make_line(patient, line_no=2, line_type=LineType.CHEMOTHERAPY, line_drug=Regimen.DOCETAXEL,
                        line_start=date(2024, 1, 8))

    result = listed(coordinator, OVERDUE_SCAN)

    assert [(row.record_id, row.what, row.days_overdue) for row in result.rows] == [("TWO", "Line 2 · Docetaxel", 18)]
    assert result.total == 1


def test_overdue_scans_sort_by_days_overdue_the_longest_first_by_default(site_a, coordinator):
    on_line(site_a, "A-15", last_scan=date(2024, 3, 24))  # ALK TKI: 99 − 84 = 15 days overdue
    on_line(site_a, "B-18", last_scan=date(2024, 5, 2), line_type=LineType.CHEMOTHERAPY,
            line_drug=Regimen.DOCETAXEL)  # 60 − 42 = 18
    on_line(site_a, "C-16", last_scan=date(2024, 3, 23))  # 100 − 84 = 16

    assert record_ids(coordinator, OVERDUE_SCAN) == ["B-18", "C-16", "A-15"]
    assert record_ids(coordinator, OVERDUE_SCAN, sort="days_overdue") == ["A-15", "C-16", "B-18"]
    assert record_ids(coordinator, OVERDUE_SCAN, sort="-record_id") == ["C-16", "B-18", "A-15"]


# ---------------------------------------------------------------- vital status


def test_vital_status_is_due_after_more_than_180_days_or_when_never_recorded(site_a, coordinator):
    # 2024-07-01 − 2024-01-03 = 180 days: not more than 180, not listed; 2024-01-02 (181 days): listed.
    factories.make_patient(site_a, "V-180", vital=VitalStatus.ALIVE, last_alive_date=date(2024, 1, 3))
    factories.make_patient(site_a, "V-181", vital=VitalStatus.ALIVE, last_alive_date=date(2024, 1, 2))
    factories.make_patient(site_a, "V-NEVER")  # no vital status at all
    factories.make_patient(site_a, "V-LOST", vital=VitalStatus.LOST_TO_FOLLOW_UP, last_alive_date=date(2023, 1, 2))
    factories.make_patient(site_a, "V-DEAD", vital=VitalStatus.DEAD, death_date=date(2023, 1, 2),
                           last_alive_date=date(2023, 1, 2))

    result = listed(coordinator, VITAL_STATUS)

    # Default order: the most overdue first, never confirmed before all. V-LOST: 546 days since
    # 2023-01-02, due 2023-07-01, 366 days overdue (2024 is a leap year); V-181: due 2024-06-30, 1 day.
    assert [(row.record_id, row.status, row.due, row.days_overdue) for row in result.rows] == [
        ("V-NEVER", "Not recorded", None, None),
        ("V-LOST", "Lost to follow-up", date(2023, 7, 1), 366),
        ("V-181", "Alive", date(2024, 6, 30), 1),
    ]
    assert result.rows[0].url == "/records/V-NEVER/vital_status/"


# ---------------------------------------------------------------- data-quality flags


def test_each_flag_of_a_stored_derivation_is_a_row_with_its_message(site_a, coordinator):
    flagged = factories.make_patient(site_a, "FLAGGED")
    derived_with_flags(flagged, [
        {"code": "dead_without_death_date", "message": "Vital status is Dead but the date of death is blank.",
         "form": "vital_status", "instance": "vital_status"},
        {"code": "assessments_same_date", "message": "Two tumour assessments are dated 2024-01-08.",
         "form": "tumor_assessment", "instance": "2024-01-08"},
    ])
    derived_with_flags(factories.make_patient(site_a, "CLEAN"), [])

    result = listed(coordinator, DATA_QUALITY_FLAGS)

    assert result.total == 2
    assert [(row.record_id, row.what, row.detail, row.status, row.url) for row in result.rows] == [
        ("FLAGGED", "Dead without a date of death", "Vital status is Dead but the date of death is blank.",
         "Vital status", "/records/FLAGGED/vital_status/"),
        ("FLAGGED", "Two assessments on one date", "Two tumour assessments are dated 2024-01-08.",
         "Tumor assessment 2024-01-08", "/records/FLAGGED/"),
    ]


def test_a_flag_naming_one_instance_links_to_its_page_and_one_naming_several_to_the_record(site_a, coordinator):
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient, line_no=1, line_start=date(2020, 3, 10), line_end=date(2021, 1, 4))
    factories.make_line(patient, line_no=2, line_start=date(2021, 1, 5))  # instance 2
    factories.make_assessment(patient, ta_date=date(2020, 3, 4))
    factories.make_assessment(patient, ta_date=date(2020, 6, 1))  # instance 2
    derived_with_flags(patient, [
        {"code": "progression_end_without_pd", "message": "Line 2 ended for progression ...",
         "form": "treatment_line", "instance": "line 2"},
        {"code": "response_discrepancy", "message": "Line 1, assessment 2020-06-01: ...",
         "form": "tumor_assessment", "instance": "2020-06-01"},
        {"code": "line_numbers_not_in_start_order", "message": "Line numbers do not follow ...",
         "form": "treatment_line", "instance": "all lines"},
        {"code": "response_discrepancy", "message": "An assessment deleted since ...",
         "form": "tumor_assessment", "instance": "2020-09-01"},
    ])

    result = listed(coordinator, DATA_QUALITY_FLAGS)

    assert [(row.url, row.action) for row in result.rows] == [
        ("/records/P-1/treatment_line/2/", "Open the form"),
        ("/records/P-1/scans/2/", "Open the form"),
        ("/records/P-1/", "Open the record"),
        ("/records/P-1/", "Open the record"),
    ]


def test_flag_rows_are_paged_across_patients_fifty_at_a_time(site_a, coordinator):
    # 30 + 30 + 1 = 61 flags. Page 1: F-1's 30 and F-2's first 20; page 2: F-2's last 10 and F-3's one.
    for record_id, count in (("F-1", 30), ("F-2", 30), ("F-3", 1)):
        derived_with_flags(factories.make_patient(site_a, record_id), [
            {"code": "lines_same_start", "message": f"{record_id} flag {number}", "form": "treatment_line",
             "instance": "2024-01-08"} for number in range(1, count + 1)])

    first, second = listed(coordinator, DATA_QUALITY_FLAGS), listed(coordinator, DATA_QUALITY_FLAGS, page="2")

    assert (first.total, first.page_count) == (61, 2)
    assert [row.detail for row in first.rows] == (
        [f"F-1 flag {n}" for n in range(1, 31)] + [f"F-2 flag {n}" for n in range(1, 21)])
    assert [row.detail for row in second.rows] == [f"F-2 flag {n}" for n in range(21, 31)] + ["F-3 flag 1"]
    assert (second.first_row_number, second.last_row_number) == (51, 61)


# ---------------------------------------------------------------- incomplete and unverified forms


def test_every_incomplete_or_unverified_instance_is_listed_with_the_page_where_it_is_finished(site_a, coordinator):
    # make_full_patient: one instance of each of the 7 repeating instruments, each Incomplete (the
    # model's default); enrollment and vital status never saved (blank status: not listed).
    patient = factories.make_full_patient(site_a, "P-1")
    Patient.objects.filter(pk=patient.pk).update(enrollment_complete=RecordStatus.COMPLETE,
                                                 vital_status_complete=RecordStatus.UNVERIFIED)
    patient.local_therapies.update(local_therapy_complete=RecordStatus.COMPLETE)
    patient.biopsies.update(biopsy_complete=RecordStatus.UNVERIFIED)

    result = listed(coordinator, INCOMPLETE_FORMS)

    assert result.total == 7  # 6 repeating instances (local therapy is Complete) + vital status
    assert [(row.what, row.detail, row.status, row.url) for row in result.rows] == [
        ("Treatment line", "Line 1", "Incomplete", "/records/P-1/treatment_line/1/"),
        ("Tumor assessment", "2020-03-04", "Incomplete", "/records/P-1/scans/1/"),
        ("Lesion", "L1-T1", "Incomplete", "/records/P-1/lesion/1/"),
        ("Lesion measurement", "L1-T1 at 2020-03-04", "Incomplete", "/records/P-1/lesion_measurement/1/"),
        ("Biopsy", "2022-01-25", "Unverified", "/records/P-1/biopsy/1/"),
        ("NGS variant", "ALK G1202R", "Incomplete", "/records/P-1/ngs_variant/1/"),
        ("Vital status", "", "Unverified", "/records/P-1/vital_status/"),
    ]


# ---------------------------------------------------------------- recent changes


def test_records_changed_within_the_recent_days_are_listed_the_latest_first(site_a, coordinator):
    now = timezone.now()
    written = factories.make_patient(site_a, "WRITTEN")  # through a door 2 days ago
    old_door = factories.make_patient(site_a, "OLD-DOOR")  # through a door 8 days ago
    factories.make_patient(site_a, "ROW-ONLY")  # never through a door: its row's time (now)
    old_row = factories.make_patient(site_a, "OLD-ROW")
    PatientVersion.objects.create(patient=written, number=2, changed_at=now - timedelta(days=2))
    PatientVersion.objects.create(patient=old_door, number=2, changed_at=now - timedelta(days=8))
    Patient.objects.filter(pk__in=[old_door.pk, old_row.pk]).update(updated_at=now - timedelta(days=8))

    result = worklist(coordinator, category=RECENT, now=now)

    assert [row.record_id for row in result.rows] == ["ROW-ONLY", "WRITTEN"]
    assert result.rows[1].url == "/records/WRITTEN/"


# ---------------------------------------------------------------- counts, filters, parameters


def test_every_category_is_counted_and_the_first_with_rows_is_shown_when_none_is_asked(site_a, coordinator):
    factories.make_patient(site_a, "V-NEVER")  # vital status due, and (its row is new) changed recently

    result = worklist(coordinator, today=TODAY)

    assert {category.key: category.count for category in result.categories} == {
        OVERDUE_SCAN: 0, VITAL_STATUS: 1, DATA_QUALITY_FLAGS: 0, OPEN_QUERIES: 0, INCOMPLETE_FORMS: 0, RECENT: 1}
    assert result.category == VITAL_STATUS


def test_the_site_filter_narrows_every_count_to_one_of_the_users_sites(site_a, site_b):
    investigator = factories.make_user(role=Role.INVESTIGATOR)
    factories.make_patient(site_a, "A-1")
    factories.make_patient(site_b, "B-1")
    factories.make_patient(site_b, "B-2")

    every_site = listed(investigator, VITAL_STATUS)
    site_b_only = listed(investigator, VITAL_STATUS, site="site-b")

    assert [row.record_id for row in every_site.rows] == ["A-1", "B-1", "B-2"]
    assert [row.record_id for row in site_b_only.rows] == ["B-1", "B-2"]
    assert [(row.record_id, row.site_code) for row in site_b_only.rows][0] == ("B-1", "site-b")
    assert {category.key: category.count for category in site_b_only.categories}[VITAL_STATUS] == 2


@pytest.mark.parametrize("parameters, message", [
    ({"category": "everything"}, "Unknown worklist category 'everything'"),
    ({"sort": "birth_date"}, "Unknown sort 'birth_date'"),
    ({"site": "site-b"}, "No site 'site-b' among the sites you see."),
    ({"site": "no-such-site"}, "No site 'no-such-site' among the sites you see."),
    ({"page": "two"}, "The page must be a whole number"),
    ({"page": "0"}, "The page must be 1 or more"),
])
def test_a_parameter_the_page_does_not_offer_is_refused_with_what_it_does(site_a, site_b, coordinator, parameters,
                                                                        message):
    with pytest.raises(WorklistParameterError, match=message.replace("(", r"\(")):
        worklist(coordinator, today=TODAY, **parameters)


def test_a_sort_the_category_does_not_offer_falls_back_to_its_default(site_a, coordinator):
    result = listed(coordinator, RECENT, sort="-days_overdue")

    assert result.sort == "-changed"


def test_a_page_past_the_last_shows_the_last(site_a, coordinator):
    factories.make_patient(site_a, "V-NEVER")

    result = listed(coordinator, VITAL_STATUS, page="9")

    assert (result.page, [row.record_id for row in result.rows]) == (1, ["V-NEVER"])
