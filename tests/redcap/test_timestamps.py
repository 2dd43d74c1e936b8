"""Times in REDCap's API forms: beginTime, endTime, dateRangeBegin and dateRangeEnd take
"YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD HH:MM", "YYYY-MM-DD", and 24:00 as the end of the day.

The requests below are exactly what the two REDCap clients send: REDCapR's `redcap_log_read`
(log_begin_date and log_end_date formatted "%Y-%m-%d 00:00" and "%Y-%m-%d 24:00", with format=csv),
REDCapR's `redcap_read_oneshot` (datetime_range_begin/end formatted "%Y-%m-%d %H:%M:%S"), and
PyCap's `export_logging` and `export_records` (begin_time, date_begin ... formatted "%Y-%m-%d %H:%M:%S")."""
import csv
import io
from datetime import UTC, datetime

import pytest

from registry.api.redcap.parameters import redcap_timestamp
from registry.models import Patient
from tests import factories

# Each patient's creation, as the audit trail holds it: two on 10 March 2024, one on either side.
CREATED = {
    "DAY-BEFORE": datetime(2024, 3, 9, 23, 59, 59, tzinfo=UTC),
    "FIRST-SECOND": datetime(2024, 3, 10, 0, 0, 0, tzinfo=UTC),
    "LAST-SECOND": datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC),
    "DAY-AFTER": datetime(2024, 3, 11, 0, 0, 0, tzinfo=UTC),
}


@pytest.fixture
def created_around_one_day(site_a):
    for record_id, when in CREATED.items():
        patient = factories.make_patient(site_a, record_id)
        Patient.history.filter(id=patient.id).update(history_date=when)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-10 13:45:30", datetime(2024, 3, 10, 13, 45, 30, tzinfo=UTC)),
    ("2024-03-10 13:45", datetime(2024, 3, 10, 13, 45, tzinfo=UTC)),
    ("2024-03-10", datetime(2024, 3, 10, tzinfo=UTC)),
    ("2024-03-10 00:00", datetime(2024, 3, 10, tzinfo=UTC)),
    ("2024-03-10 24:00", datetime(2024, 3, 11, tzinfo=UTC)),
    ("2024-03-10 24:00:00", datetime(2024, 3, 11, tzinfo=UTC)),
    ("2024-12-31 24:00", datetime(2025, 1, 1, tzinfo=UTC)),
    ("2024-02-28 24:00", datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_redcaps_timestamp_forms_are_read_with_24_00_as_the_end_of_the_day(text, expected):
    assert redcap_timestamp(text) == expected


@pytest.mark.parametrize("text", [
    "2024-03-10 24:01", "2024-03-10 24:00:01", "2024-03-10 25:00", "2024-03-10 12:60", "2024-03-10 12:00:60",
    "2024-02-30", "2024-03-10T12:00", "2024-03-10 12", "10/03/2024", "yesterday", "２０２４-03-10", "9999-12-31 24:00",
])
def test_anything_else_is_not_a_redcap_timestamp(text):
    assert redcap_timestamp(text) is None


def test_redcapr_log_read_gets_the_whole_days_it_asks_for(redcap, admin_token, created_around_one_day):
    # REDCapR::redcap_log_read(uri, token, log_begin_date = as.Date("2024-03-10"), log_end_date = as.Date("2024-03-10"))
    answer = redcap.post({"token": admin_token, "content": "log", "format": "csv",
                          "beginTime": "2024-03-10 00:00", "endTime": "2024-03-10 24:00"})

    assert answer.status == 200
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(row["timestamp"], row["action"]) for row in rows] == [
        ("2024-03-10 23:59", "Create record LAST-SECOND"), ("2024-03-10 00:00", "Create record FIRST-SECOND")]


def test_redcapr_log_read_of_one_record_over_two_days(redcap, admin_token, created_around_one_day):
    # log_begin_date = as.Date("2024-03-09"), log_end_date = as.Date("2024-03-10"), record = "DAY-BEFORE"
    answer = redcap.post({"token": admin_token, "content": "log", "format": "csv",
                          "beginTime": "2024-03-09 00:00", "endTime": "2024-03-10 24:00", "record": "DAY-BEFORE"})

    assert [row["action"] for row in csv.DictReader(io.StringIO(answer.text))] == ["Create record DAY-BEFORE"]


def test_redcapr_read_oneshot_with_a_datetime_range(redcap, admin_token, created_around_one_day):
    # REDCapR::redcap_read_oneshot(uri, token, datetime_range_begin = as.POSIXct("2024-03-10 00:00:00"),
    #                              datetime_range_end = as.POSIXct("2024-03-11 00:00:00"), fields = "record_id")
    answer = redcap.post({
        "token": admin_token, "content": "record", "format": "csv", "type": "flat", "rawOrLabel": "raw",
        "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false", "exportSurveyFields": "false",
        "exportDataAccessGroups": "false", "filterLogic": "", "dateRangeBegin": "2024-03-10 00:00:00",
        "dateRangeEnd": "2024-03-11 00:00:00", "exportBlankForGrayFormStatus": "FALSE", "fields": "record_id",
    })

    assert answer.status == 200
    assert [row["record_id"] for row in csv.DictReader(io.StringIO(answer.text))] == ["FIRST-SECOND", "LAST-SECOND"]


def test_pycap_export_logging_with_begin_and_end_times(redcap, admin_token, created_around_one_day):
    # project.export_logging(begin_time=datetime(2024, 3, 10), end_time=datetime(2024, 3, 10, 23, 59, 59))
    answer = redcap.post({"token": admin_token, "content": "log", "format": "json",
                          "beginTime": "2024-03-10 00:00:00", "endTime": "2024-03-10 23:59:59"})

    assert [entry["action"] for entry in answer.json()] == ["Create record FIRST-SECOND"]


def test_pycap_export_records_with_a_date_range(redcap, admin_token, created_around_one_day):
    # project.export_records(fields=["record_id"], date_begin=datetime(2024, 3, 9, 23, 59, 59),
    #                        date_end=datetime(2024, 3, 10, 23, 59, 59))
    answer = redcap.post({"token": admin_token, "content": "record", "format": "json", "type": "flat",
                          "fields[0]": "record_id", "dateRangeBegin": "2024-03-09 23:59:59",
                          "dateRangeEnd": "2024-03-10 23:59:59"})

    assert [row["record_id"] for row in answer.json()] == ["DAY-BEFORE", "FIRST-SECOND"]


@pytest.mark.parametrize("name", ["beginTime", "endTime", "dateRangeBegin", "dateRangeEnd"])
def test_a_time_in_another_form_is_refused_with_the_forms_redcap_takes(redcap, admin_token, name, site_a):
    content = "log" if name.endswith("Time") else "record"

    answer = redcap.post({"token": admin_token, "content": content, "format": "json", name: "2024-03-10T00:00"})

    assert (answer.status, answer.json()) == (400, {"error": (
        f"The value of the parameter \"{name}\" is not valid: '2024-03-10T00:00' "
        "(a time as YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM or YYYY-MM-DD)")})

