"""The REDCap import accepts a value a soft check asks about and writes it; its JSON count answer lists
the checks under "warnings" (the other answers stay exactly REDCap's)."""
import json
from datetime import timedelta

from django.utils import timezone

from registry.models import Patient
from registry.records.soft_checks import FUTURE_DATE, OUTSIDE_RANGE
from tests.records.flat_files import instance_row, record_row, row_counts

FUTURE = (timezone.localdate() + timedelta(days=30)).isoformat()
ROWS = [
    record_row("RW-1", sex="1", adv_dx_date=FUTURE),
    instance_row("RW-1", "treatment_line", 1, line_no="0", line_type="1", line_drug="2", line_start="2021-02-10"),
]


def test_the_json_count_answer_lists_the_warnings_and_the_records_are_written(redcap, coordinator_token, site_a):
    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(ROWS), returnFormat="json")

    assert answer.status == 200
    body = answer.json()
    assert body["count"] == 1
    assert [(w["record"], w["form"], w["instance"], w["field"], w["value"], w["check"]) for w in body["warnings"]] == [
        ("RW-1", "enrollment", None, "adv_dx_date", FUTURE, FUTURE_DATE),
        ("RW-1", "treatment_line", 1, "line_no", "0", OUTSIDE_RANGE),
    ]
    assert str(Patient.objects.get(record_id="RW-1").adv_dx_date) == FUTURE


def test_the_csv_and_ids_answers_stay_redcaps(redcap, coordinator_token, site_a):
    data = json.dumps(ROWS)

    assert redcap(coordinator_token, "record", format="json", data=data, returnFormat="csv").text == "1"
    assert redcap(coordinator_token, "record", format="json", data=data, returnFormat="json",
                  returnContent="ids").json() == ["RW-1"]


def test_a_value_of_the_wrong_type_is_refused_and_nothing_is_written(redcap, coordinator_token, site_a):
    before = row_counts()
    rows = [record_row("RW-2", sex="1", adv_dx_date=FUTURE),
            instance_row("RW-2", "treatment_line", 1, line_no="x", line_type="1", line_drug="2",
                         line_start="2021-02-10")]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json")

    assert answer.status == 400 and "warnings" not in answer.json()
    assert row_counts() == before
