"""The R parity input is selected from exported dataset rows by the rules (registry/reports/r_parity.py).

Rows are written as csv.DictReader gives them from the exports: every value a string, "" for blank.
"""
import pytest
from django.core.management import CommandError, call_command

from registry.models import IdentifiedExport
from registry.reports.r_parity import (
    COMPARISONS, INPUT_COLUMNS, PatientLines, compound_mutation_at_index, first_subsequent_line, survival_input_rows,
)


def _line(record_id="P-1", line_no="1", **values):
    row = {"record_id": record_id, "line_no": line_no, "line_type": "1", "line_drug": "", "tki_generation": "2",
           "line_start": "2020-01-01", "pd_date": "", "subsequent_to_index": "0",
           "pfs_months": "", "pfs_event": "", "os_months": "", "os_event": ""}
    return {**row, **values}


def _biopsy(bx_date, phase="post_2g", compound="1", record_id="P-1"):
    return {"record_id": record_id, "bx_date": bx_date, "phase": phase, "alk_compound": compound}


def _patient(record_id="P-1", cohort="1", status="mutation", index_pd_date="2020-03-01"):
    return {"record_id": record_id, "cohort": cohort, "alk_mut_status_at_index": status,
            "index_pd_date": index_pd_date}


def test_the_first_subsequent_line_is_the_earliest_start_then_the_lowest_line_number():
    # given lines 3 and 4 subsequent to the index, both starting 2020-05-01, and line 5 earlier
    # but not subsequent: line 3 is the first subsequent line (same start, lower number).
    lines = [_line(line_no="5", line_start="2020-04-01"),
             _line(line_no="4", line_start="2020-05-01", subsequent_to_index="1"),
             _line(line_no="3", line_start="2020-05-01", subsequent_to_index="1")]
    record = PatientLines(_patient(), sorted(lines, key=lambda line: (line["line_start"], int(line["line_no"]))), [])
    assert first_subsequent_line(record)["line_no"] == "3"
    assert first_subsequent_line(record._replace(lines=lines[:1])) is None


@pytest.mark.parametrize("bx_date, phase, compound, expected", [
    # index line 1 (second generation) progressed 2020-03-01; lookback 30 days → window from
    # 2020-01-31; the next ALK TKI line starts 2020-04-10, the window's last day (inclusive).
    ("2020-01-30", "post_2g", "1", False),  # a day before the window
    ("2020-01-31", "post_2g", "1", True),   # its first day
    ("2020-04-10", "post_2g", "1", True),   # the next TKI line's start
    ("2020-04-11", "post_2g", "1", False),  # after it
    ("2020-03-05", "post_1g", "1", False),  # another generation's resistance
    ("2020-03-05", "post_2g", "0", False),  # at the index, but not compound
])
def test_a_compound_mutation_counts_only_in_a_biopsy_at_the_index_resistance(bx_date, phase, compound, expected):
    lines = [_line(line_no="1", line_start="2019-01-01", pd_date="2020-03-01"),
             _line(line_no="2", line_type="2", line_start="2020-03-15"),  # chemotherapy: not the next TKI
             _line(line_no="3", line_start="2020-04-10", tki_generation="3")]
    record = PatientLines(_patient(), lines, [_biopsy(bx_date, phase, compound)])
    assert compound_mutation_at_index(record, 30) is expected


def test_rows_follow_the_groups_of_each_comparison_and_leave_out_what_the_report_leaves_out():
    # P-1: cohort 1, ALK mutation at the index, first subsequent line a third-generation TKI
    #   → group 1 of 5A/5B (any TKI), 5C/5D (not compound), 5E/5F (third generation).
    # P-2: cohort 2, no mutation, first subsequent line pemetrexed + platinum (drug 20) with OS blank
    #   → group 1 of 6A and 6C (both compare platinum chemotherapy's PFS; not a TKI, so in no group 2;
    #   6B and 6D need OS, which is blank).
    # P-3: in no cohort → nowhere, although its line would qualify.
    lines = [
        _line("P-1", "2", tki_generation="3", subsequent_to_index="1", line_start="2020-04-01",
              pfs_months="4.5", pfs_event="1", os_months="12.25", os_event="0"),
        _line("P-2", "3", line_type="2", line_drug="20", tki_generation="", subsequent_to_index="1",
              pfs_months="6", pfs_event="0"),
        _line("P-3", "2", tki_generation="3", subsequent_to_index="1", pfs_months="1", pfs_event="1",
              os_months="2", os_event="1"),
    ]
    patients = [_patient("P-1"), _patient("P-2", cohort="2", status="no_mutation"), _patient("P-3", cohort="")]
    rows = survival_input_rows(lines=lines, patients=patients, biopsies=[], biopsy_lookback_days=30)
    assert all(tuple(row) == INPUT_COLUMNS for row in rows)
    assert [(row["comparison"], row["group"], row["record_id"], row["months"], row["status"]) for row in rows] == [
        ("fig5a", "1", "P-1", "4.5", "1"), ("fig5b", "1", "P-1", "12.25", "0"),
        ("fig5c", "1", "P-1", "4.5", "1"), ("fig5d", "1", "P-1", "12.25", "0"),
        ("fig5e", "1", "P-1", "4.5", "1"), ("fig5f", "1", "P-1", "12.25", "0"),
        ("fig6a", "1", "P-2", "6", "0"), ("fig6c", "1", "P-2", "6", "0"),
    ]


def test_the_comparisons_are_the_reports_ten_in_its_order():
    from registry.reports.tables import SURVIVAL_COMPARISONS

    assert [(key, endpoint) for key, endpoint, *_ in COMPARISONS] == [
        (key, endpoint) for key, _, endpoint, *_ in SURVIVAL_COMPARISONS]


@pytest.mark.django_db
def test_the_command_refuses_derivations_that_are_not_consistent_and_writes_nothing(tmp_path):
    # given an empty registry: no patient derived, so the export's provenance is not consistent
    output = tmp_path / "input.csv"
    with pytest.raises(CommandError, match="not consistent, derive them again"):
        call_command("r_parity_input", "--output", str(output))
    assert not output.exists()
    assert IdentifiedExport.objects.count() == 0
