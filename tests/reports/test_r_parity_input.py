"""The R parity input is selected from exported dataset rows by the rules (registry/reports/r_parity.py).

Rows are written as csv.DictReader gives them from the exports: every value a string, "" for blank.
"""
import pytest
from django.core.management import CommandError, call_command

from registry.models import IdentifiedExport
from registry.reports.r_parity import COMPARISONS, INPUT_COLUMNS, survival_input_rows


def _line(record_id="P-1", line_no="1", **values):
    row = {"record_id": record_id, "line_no": line_no, "line_type": "1", "line_drug": "", "tki_generation": "2",
           "first_subsequent_line": "0", "pfs_months": "", "pfs_event": "", "os_months": "", "os_event": ""}
    return {**row, **values}


def _patient(record_id="P-1", cohort="1", status="mutation", compound="0"):
    return {"record_id": record_id, "cohort": cohort, "alk_mut_status_at_index": status,
            "compound_mutation_at_index": compound}


def test_rows_follow_the_groups_of_each_comparison_and_leave_out_what_the_report_leaves_out():
    # P-1: cohort 1, ALK mutation at the index (not compound), first subsequent line (line 2) a
    #   third-generation TKI → group 1 of 5A/5B (any TKI), 5C/5D (not compound), 5E/5F (third
    #   generation); its line 4, a later TKI line, is not the first subsequent line and counts nowhere.
    # P-2: cohort 2, no mutation, first subsequent line pemetrexed + platinum (drug 20) with OS blank
    #   → group 1 of 6A and 6C (both compare platinum chemotherapy's PFS; not a TKI, so in no group 2;
    #   6B and 6D need OS, which is blank).
    # P-3: in no cohort → nowhere, although its line would qualify.
    # P-4: cohort 1, a compound mutation at the index → 5A/5B and 5E/5F but not 5C/5D (not compound).
    lines = [
        _line("P-1", "2", tki_generation="3", first_subsequent_line="1",
              pfs_months="4.5", pfs_event="1", os_months="12.25", os_event="0"),
        _line("P-1", "4", tki_generation="3", pfs_months="9", pfs_event="1", os_months="9", os_event="1"),
        _line("P-2", "3", line_type="2", line_drug="20", tki_generation="", first_subsequent_line="1",
              pfs_months="6", pfs_event="0"),
        _line("P-3", "2", tki_generation="3", first_subsequent_line="1", pfs_months="1", pfs_event="1",
              os_months="2", os_event="1"),
        _line("P-4", "2", tki_generation="3", first_subsequent_line="1", pfs_months="3", pfs_event="1",
              os_months="7", os_event="1"),
    ]
    patients = [_patient("P-1"), _patient("P-2", cohort="2", status="no_mutation"), _patient("P-3", cohort=""),
                _patient("P-4", compound="1")]
    rows = survival_input_rows(lines=lines, patients=patients)
    assert all(tuple(row) == INPUT_COLUMNS for row in rows)
    assert [(row["comparison"], row["group"], row["record_id"], row["months"], row["status"]) for row in rows] == [
        ("fig5a", "1", "P-1", "4.5", "1"), ("fig5a", "1", "P-4", "3", "1"),
        ("fig5b", "1", "P-1", "12.25", "0"), ("fig5b", "1", "P-4", "7", "1"),
        ("fig5c", "1", "P-1", "4.5", "1"), ("fig5d", "1", "P-1", "12.25", "0"),
        ("fig5e", "1", "P-1", "4.5", "1"), ("fig5e", "1", "P-4", "3", "1"),
        ("fig5f", "1", "P-1", "12.25", "0"), ("fig5f", "1", "P-4", "7", "1"),
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
