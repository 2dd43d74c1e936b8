"""The `endpoints` dataset of the demo cohort against the rules of CDISC ADaM's time-to-event structure
(ADTTE), as rules §8 (v2) asks: its required variables are present, PARAM is one to one with PARAMCD,
CNSR is 0 or 1, EVNTDESC is never blank, CNSDTDSC is blank exactly for the events, AVAL is not
negative and STARTDT is not after ADT.

The demo cohort (loaded once per test process, tests/demo_world.py) is put back and exported once for
the module, in a transaction rolled back at once; the tests read the exported file.
"""
import csv
from datetime import date

import pytest
from django.db import transaction

from registry.services.datasets import dataset_export
from tests.demo_world import demo_cohort_put_back

# The tests read a file, not the database; the mark makes pytest-django set up the test database
# that the module fixture fills.
pytestmark = pytest.mark.django_db

# ADTTE's required variables (ADaM Basic Data Structure for Time-to-Event Analyses), lower-cased as §8 writes them.
ADTTE_REQUIRED = ("studyid", "usubjid", "paramcd", "param", "aval", "startdt", "adt", "cnsr")


@pytest.fixture(scope="module")
def endpoints(demo_cohort_snapshot, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), transaction.atomic():
        demo_cohort_put_back(demo_cohort_snapshot)  # what load_demo writes (tests/demo_world.py)
        output = tmp_path_factory.mktemp("adtte") / "endpoints.csv"
        dataset_export(name="endpoints", output=output)
        transaction.set_rollback(True)
    with output.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_the_demo_cohort_gives_endpoint_rows_each_derived(endpoints):
    # 73 patients, each with at least one line: two rows a line, every one with an endpoint
    assert len(endpoints) >= 2 * 73
    assert all(row["cnsr"] != "" for row in endpoints)


def test_every_required_adtte_variable_is_present_and_filled(endpoints):
    assert set(ADTTE_REQUIRED) <= set(endpoints[0])
    assert [row for row in endpoints if any(row[name] == "" for name in ADTTE_REQUIRED)] == []


def test_param_is_one_to_one_with_paramcd(endpoints):
    pairs = {(row["paramcd"], row["param"]) for row in endpoints}

    assert len(pairs) == len({paramcd for paramcd, _ in pairs}) == len({param for _, param in pairs}) == 2


def test_cnsr_is_0_or_1_and_evntdesc_is_never_blank(endpoints):
    assert {row["cnsr"] for row in endpoints} == {"0", "1"}
    assert [row for row in endpoints if not row["evntdesc"]] == []


def test_cnsdtdsc_is_blank_exactly_for_the_events(endpoints):
    assert [row for row in endpoints if (row["cnsdtdsc"] == "") != (row["cnsr"] == "0")] == []


def test_aval_is_not_negative_and_is_the_days_from_startdt_to_adt(endpoints):
    for row in endpoints:
        start, end = date.fromisoformat(row["startdt"]), date.fromisoformat(row["adt"])
        assert start <= end, row
        assert int(row["aval"]) == int(row["aval_days"]) == (end - start).days >= 0, row


def test_usubjid_is_studyid_and_subjid_and_names_one_subject(endpoints):
    for row in endpoints:
        assert row["usubjid"] == f"{row['studyid']}-{row['subjid']}" and row["subjid"] == row["record_id"], row
    assert {row["studyid"] for row in endpoints} == {"ALK-REGISTRY"}


def test_each_date_has_its_source(endpoints):
    # SRCDOM and SRCVAR always; SRCSEQ exactly for a repeating form's record
    repeating = {"tumor_assessment", "treatment_line", "biopsy", "local_therapy"}
    for row in endpoints:
        assert row["srcdom"] and row["srcvar"], row
        assert (row["srcseq"] != "") == (row["srcdom"] in repeating), row
