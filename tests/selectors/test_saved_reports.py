"""A saved report's rows: filtered and sorted as its logic says, for the records the reader sees,
de-identified for readers without the identified grant; private reports are their owner's alone.

Expected rows are worked out by hand in tests/saved_report_cases.py; de-identified ones from the rule's
definition with hmac directly (pseudonym = first 16 hex digits of HMAC-SHA256(key, "record_id:" + id);
offset = first 8 bytes of HMAC-SHA256(key, "date_offset:" + id) big-endian modulo 365 days)."""
import hashlib
import hmac
from datetime import date, timedelta

import pytest

from registry.models import Role
from registry.selectors.saved_reports import ReportUnavailable, report_table, visible_report, visible_reports
from registry.services.saved_reports import saved_report_create
from tests import factories
from tests.saved_report_cases import ADMINISTRATOR_ROWS, COLUMNS, SITE_A_ROWS, WOMEN_ON_ALECTINIB, make_registry

KEY = "a-test-key-of-more-than-32-characters-x"


def pseudonym(record_id: str) -> str:
    return hmac.new(KEY.encode(), f"record_id:{record_id}".encode(), hashlib.sha256).hexdigest()[:16]


def offset(record_id: str) -> timedelta:
    digest = hmac.new(KEY.encode(), f"date_offset:{record_id}".encode(), hashlib.sha256).digest()
    return timedelta(days=int.from_bytes(digest[:8], "big") % 365)


@pytest.fixture
def registry(site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    make_registry(site_a, site_b)


@pytest.fixture
def report(administrator, registry):
    return saved_report_create(user=administrator, shared=True, **WOMEN_ON_ALECTINIB)


@pytest.fixture
def investigator(db):
    return factories.make_user("investigator", role=Role.INVESTIGATOR)


def test_rows_are_filtered_and_sorted_as_the_logic_says(report, administrator):
    table = report_table(report, user=administrator)

    assert list(table.columns) == COLUMNS
    assert table.rows == ADMINISTRATOR_ROWS
    assert table.deidentified is False
    assert table.record_ids == {"A-1", "B-1"}


def test_a_sort_on_record_id_keeps_each_records_rows_together(report, administrator):
    report.sort_field, report.sort_direction = "record_id", "desc"

    rows = report_table(report, user=administrator).rows

    # Newest record ID first; within a record the export's order (record row, then line 1, line 2).
    assert [row[:3] for row in rows] == [
        ["B-1", "", ""], ["B-1", "treatment_line", "1"],
        ["A-1", "", ""], ["A-1", "treatment_line", "1"], ["A-1", "treatment_line", "2"],
    ]


def test_a_sort_on_a_record_field_reads_the_records_value_on_its_instance_rows(administrator, registry):
    report = saved_report_create(user=administrator, name="By sex", fields=["sex", "line_drug"],
                                 sort_field="sex", sort_direction="asc")

    rows = report_table(report, user=administrator).rows

    # sex 1 before sex 2 (A-1, A-3, B-1 in record order); each record's line rows follow it.
    assert [row[0] for row in rows] == ["A-2", "A-2", "A-1", "A-1", "A-1", "A-3", "A-3", "B-1", "B-1"]


def test_labels_are_written_after_the_rows_are_sorted(report, administrator):
    rows = report_table(report, user=administrator, labels=True).rows

    assert rows[0] == ["A-1", "Treatment line", "2", "", "Lorlatinib", "2021-05-01"]
    assert rows[3] == ["A-1", "", "", "Female", "", ""]


def test_a_coordinator_reads_the_rows_of_their_own_site_only(report, coordinator_a):
    assert report_table(report, user=coordinator_a).rows == SITE_A_ROWS


def test_an_investigator_without_the_grant_reads_pseudonyms_and_shifted_dates(report, investigator):
    table = report_table(report, user=investigator)

    assert table.deidentified is True
    assert list(table.columns) == COLUMNS
    expected = []
    for record, instrument, instance, sex, drug, start in ADMINISTRATOR_ROWS:
        shifted = (date.fromisoformat(start) - offset(record)).isoformat() if start else ""
        expected.append([pseudonym(record), instrument, instance, sex, drug, shifted])
    # Sorted on the shifted dates, newest first; rows without a date last, in pseudonym order.
    dated = sorted((row for row in expected if row[5]), key=lambda row: row[5], reverse=True)
    undated = sorted((row for row in expected if not row[5]), key=lambda row: row[0])
    assert table.rows == dated + undated


def test_identifier_fields_are_left_out_of_a_deidentified_report(administrator, investigator, registry):
    report = saved_report_create(user=administrator, shared=True, name="IDs", fields=["mrn", "birth_date", "sex"],
                                 sort_field="birth_date")

    assert list(report_table(report, user=administrator).columns)[3:] == ["mrn", "birth_date", "sex"]
    table = report_table(report, user=investigator)
    assert list(table.columns)[3:] == ["sex"]
    # The sort on birth_date is not applied (its column is not there): pseudonym order.
    assert [row[0] for row in table.rows] == sorted(pseudonym(record) for record in ("A-1", "A-2", "A-3", "B-1"))


def test_a_filter_on_a_date_cannot_be_read_deidentified(administrator, investigator, registry):
    report = saved_report_create(user=administrator, shared=True, name="Recent", fields=["line_start"],
                                 filter_logic='[line_start] > "2020-05-01"')

    with pytest.raises(ReportUnavailable, match=r"filters on identifier or date fields \(line_start\)"):
        report_table(report, user=investigator)
    assert [row[0] for row in report_table(report, user=administrator).rows] == ["A-1"] * 3 + ["B-1"] * 2


def test_a_private_report_is_invisible_to_everyone_but_its_owner(coordinator_a, administrator, investigator):
    private = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)
    shared = saved_report_create(user=coordinator_a, shared=True, name="Shared", fields=["sex"])

    assert list(visible_reports(coordinator_a)) == [shared, private]
    assert list(visible_reports(administrator)) == [shared]
    assert list(visible_reports(investigator)) == [shared]
    for other in (administrator, investigator):
        with pytest.raises(ReportUnavailable, match=f"No report '{private.pk}' among the reports you can see"):
            visible_report(other, private.pk)


def test_a_user_without_a_role_sees_no_report(coordinator_a):
    saved_report_create(user=coordinator_a, shared=True, name="Shared", fields=["sex"])

    assert list(visible_reports(factories.make_user("nobody"))) == []
