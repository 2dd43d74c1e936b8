"""`responses` and `tumor_sums` of the whole demo cohort follow the ADaM rules of
tests/exports/adam_conformance.py and agree with `lines` and `assessments`."""
import csv

import pytest
from django.db import transaction

from registry.services.datasets import dataset_export
from tests.demo_world import demo_cohort_put_back
from tests.exports import adam_conformance

pytestmark = pytest.mark.django_db  # the module fixture needs the test database set up first
DATASETS = ("responses", "tumor_sums", "lines", "assessments")


def _records(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def demo_export(demo_cohort_snapshot, django_db_blocker, tmp_path_factory):
    """The demo cohort as `load_demo` leaves it (tests/demo_world.py), its four datasets exported once
    for the module as CSV, in a transaction rolled back at once."""
    folder = tmp_path_factory.mktemp("demo-adam")
    with django_db_blocker.unblock(), transaction.atomic():
        demo_cohort_put_back(demo_cohort_snapshot)
        for name in DATASETS:
            dataset_export(name=name, output=folder / f"{name}.csv")
        transaction.set_rollback(True)
    return {name: _records(folder / f"{name}.csv") for name in DATASETS}


def test_the_demo_cohort_has_rows_of_every_kind(demo_export):
    # Without rows of each kind the checks below would pass on nothing.
    responses, tumor_sums = demo_export["responses"], demo_export["tumor_sums"]

    assert {row["paramcd"] for row in responses} == {"OVRLRESP", "BOR"}
    # The demo's responses are PR, PD and NE (SD and CR: tests/exports/test_adam_datasets.py).
    assert {"PR", "PD", "NE"} <= {row["avalc"] for row in responses}
    assert {row["ablfl"] for row in tumor_sums} == {"Y", ""}
    assert any(row["pchg_nadir"] for row in tumor_sums if row["ablfl"] == "")


def test_responses_of_the_demo_cohort_follow_adrs_and_agree_with_lines_and_assessments(demo_export):
    assert adam_conformance.response_problems(
        demo_export["responses"], demo_export["lines"], demo_export["assessments"]) == []


def test_tumor_sums_of_the_demo_cohort_follow_adtr_and_agree_with_assessments(demo_export):
    assert adam_conformance.tumor_sum_problems(
        demo_export["tumor_sums"], demo_export["lines"], demo_export["assessments"]) == []


def test_every_demo_line_with_tumor_sums_has_exactly_one_baseline_row(demo_export):
    # Every demo line measures its targets at its baseline; a line whose baseline sum is unknown would
    # have follow-up rows and no baseline row (tests/exports/test_adam_datasets.py, AD-2).
    baselines: dict[tuple, int] = {}
    for row in demo_export["tumor_sums"]:
        key = (row["record_id"], row["line_no"])
        baselines[key] = baselines.get(key, 0) + (row["ablfl"] == "Y")

    assert baselines and set(baselines.values()) == {1}


def test_the_checks_find_what_they_look_for(demo_export):
    # Each check fails on a broken copy: a wrong aval, a missing BOR, a wrong change and nadir.
    responses = [dict(row) for row in demo_export["responses"]]
    responses[0]["aval"] = "9"
    best = next(index for index, row in enumerate(responses) if row["paramcd"] == "BOR")
    del responses[best]
    tumor_sums = [dict(row) for row in demo_export["tumor_sums"]]
    follow_up = next(row for row in tumor_sums if row["ablfl"] == "" and row["nadir"])
    follow_up["chg"], follow_up["nadir"] = "1234", "0.5"

    response_problems = adam_conformance.response_problems(
        responses, demo_export["lines"], demo_export["assessments"])
    tumor_sum_problems = adam_conformance.tumor_sum_problems(
        tumor_sums, demo_export["lines"], demo_export["assessments"])

    assert any("aval 9" in problem for problem in response_problems)
    assert any("0 BOR rows" in problem for problem in response_problems)
    assert any("chg 1234" in problem for problem in tumor_sum_problems)
    assert any("nadir 0.5" in problem for problem in tumor_sum_problems)
