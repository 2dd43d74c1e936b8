"""The flat (REDCap CSV) import, its command and the per-instrument spreadsheets refuse to change
locked data, naming the lock, and write nothing; unchanged rows of a locked record still pass."""
import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.records.import_result import ImportProblem
from registry.records.spreadsheets import VitalStatusResource, spreadsheet_problems
from registry.services.records import records_export, records_import
from tests.locked_records import locked_record, snapshot, whole_record_refusal
from tests.records.flat_files import instance_row, record_row, write_csv

pytestmark = pytest.mark.django_db
UNLOCK_ADVICE = "; a data manager may unlock it"


def test_a_flat_csv_import_refuses_a_change_a_new_instance_and_an_erasure_of_a_locked_record(site_a, tmp_path):
    locked_record(site_a)
    before = snapshot()
    path = write_csv(tmp_path, "locked.csv", [
        record_row("P-1", mrn="MRN-2"),  # a change (line 2 of the file)
        instance_row("P-1", "treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="2020-03-10",
                     line_ecog=""),  # an erasure of its ECOG, with overwrite (line 3)
        instance_row("P-1", "treatment_line", 3, line_no="3", line_type="1", line_drug="2",
                     line_start="2022-01-01"),  # a new instance (line 4)
    ])

    result = records_import(source=path, file_format="csv", site=site_a, user=None, overwrite_behavior="overwrite")

    # Record rows are checked in the first pass, repeating instruments in the second (flat_import.PASSES).
    reason = f"cannot be changed: {whole_record_refusal()}{UNLOCK_ADVICE}"
    assert result.problems == [
        ImportProblem(2, "P-1", "enrollment", "", "record_id", "P-1", reason),
        ImportProblem(3, "P-1", "treatment_line", "1", "record_id", "P-1", reason),
        ImportProblem(4, "P-1", "treatment_line", "3", "record_id", "P-1", reason),
    ]
    assert snapshot() == before


def test_the_import_command_refuses_a_locked_instance_and_takes_the_rest_of_the_record(site_a, tmp_path):
    locked_record(site_a, whole_record=False)  # treatment line 1 only
    before = snapshot()
    path = write_csv(tmp_path, "locked.csv", [instance_row("P-1", "treatment_line", 1, line_ecog="2")])

    with pytest.raises(CommandError, match=r"1 problem\(s\) in locked.csv; nothing was imported"):
        call_command("import_records", str(path))
    assert snapshot() == before

    write_csv(tmp_path, "other.csv", [instance_row("P-1", "treatment_line", 2, line_ecog="2")])
    call_command("import_records", str(tmp_path / "other.csv"))
    assert snapshot() != before


def test_an_export_of_a_locked_record_imports_again_unchanged(site_a, tmp_path):
    locked_record(site_a)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as output:
        records_export(output=output)
    before = snapshot()

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert snapshot()[0] == before[0]


def test_a_spreadsheet_import_refuses_a_change_and_an_erasure_of_a_locked_record(site_a):
    locked_record(site_a)
    locked_record(site_a, record_id="P-2", whole_record=False)  # P-2: only its treatment line 1 is locked
    before = snapshot()
    # Row 1 erases P-1's vital status (locked record); row 2 changes P-2's, which is not locked: it
    # would pass alone, but the file is all or nothing.
    dataset = tablib.Dataset(headers=["record_id", "last_alive_date", "vital", "death_date", "death_cause",
                                      "vital_status_complete"])
    dataset.append(["P-1", "", "", "", "", ""])
    dataset.append(["P-2", "2026-11-01", "1", "", "", ""])

    result = VitalStatusResource().import_data(dataset, dry_run=False)

    message = f"Nothing was written: {whole_record_refusal()}. A data manager may unlock it, giving a reason."
    assert [(row, column, reason) for row, _, column, _, reason in spreadsheet_problems(result)] == [
        (1, "record_id", message)]
    assert snapshot() == before
