"""import_records and export_records: thin command-line doors to the records services."""
import pytest
from django.core.management import CommandError, call_command

from registry.models import Patient, Role
from tests import factories
from tests.records.flat_files import EMPTY, EVERY_INSTRUMENT_CSV, record_row, row_counts, write_csv


def test_import_records_prints_created_updated_and_unchanged_per_instrument(site_a, capsys):
    call_command("import_records", str(EVERY_INSTRUMENT_CSV), "--site", "site-a")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["instrument", "created", "updated", "unchanged"]
    assert lines[1].split() == ["enrollment", "4", "0", "0"]
    assert lines[6].split() == ["lesion_measurement", "11", "0", "0"]
    assert lines[-1] == "Imported 46 rows."
    assert Patient.objects.filter(site=site_a).count() == 4
    assert set(Patient.history.values_list("history_change_reason", flat=True)) == {
        "import_records: redcap_every_instrument.csv"
    }


def test_import_records_dry_run_writes_nothing(site_a, capsys):
    call_command("import_records", str(EVERY_INSTRUMENT_CSV), "--site", "site-a", "--dry-run")

    assert capsys.readouterr().out.splitlines()[-1] == "Dry run: nothing was written."
    assert row_counts() == EMPTY


def test_import_records_lists_the_problems_and_fails(site_a, tmp_path, capsys):
    path = write_csv(tmp_path, "bad.csv", [record_row("A-1", sex="3", adv_dx_date="2020-01-01")])

    with pytest.raises(CommandError, match=r"^1 problem\(s\) in bad.csv; nothing was imported.$"):
        call_command("import_records", str(path), "--site", "site-a")

    assert capsys.readouterr().out.splitlines()[1] == (
        "2\tA-1\tenrollment\t\tsex\t3\tis not a code of this field (1 Male, 2 Female)"
    )
    assert row_counts() == EMPTY


def test_import_records_needs_a_site_to_create_records(site_a, tmp_path):
    path = write_csv(tmp_path, "new.csv", [record_row("A-1", sex="1", adv_dx_date="2020-01-01")])

    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_records", str(path))

    assert row_counts() == EMPTY


def test_import_records_refuses_an_unknown_site_user_or_format(site_a, tmp_path):
    path = write_csv(tmp_path, "new.txt", [record_row("A-1", sex="1", adv_dx_date="2020-01-01")])

    with pytest.raises(CommandError, match="No site with the code 'nowhere'"):
        call_command("import_records", str(EVERY_INSTRUMENT_CSV), "--site", "nowhere")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_records", str(EVERY_INSTRUMENT_CSV), "--site", "site-a", "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot tell the format of new.txt"):
        call_command("import_records", str(path), "--site", "site-a")
    assert row_counts() == EMPTY


def test_import_records_as_a_user_records_them_in_the_audit_trail(site_a, tmp_path):
    factories.make_user("coord", role=Role.COORDINATOR, sites=[site_a])
    path = write_csv(tmp_path, "new.csv", [record_row("A-1", sex="1", adv_dx_date="2020-01-01")])

    call_command("import_records", str(path), "--site", "site-a", "--user", "coord", "--format", "csv")

    assert Patient.history.get().history_user.username == "coord"


def test_export_records_writes_the_flat_file_of_the_chosen_records(site_a, tmp_path, capsys):
    call_command("import_records", str(EVERY_INSTRUMENT_CSV), "--site", "site-a")
    everything, some = tmp_path / "all.csv", tmp_path / "some.json"

    call_command("export_records", "--output", str(everything), "--site", "site-a")
    call_command("export_records", "--output", str(some), "--records", "ex-004")

    assert everything.read_bytes() == EVERY_INSTRUMENT_CSV.read_bytes()
    assert some.read_text(encoding="utf-8").startswith('[\n{"record_id": "ex-004", "redcap_repeat_instrument": ""')
    assert capsys.readouterr().out.splitlines()[-1] == f"Exported 1 rows to {some}."
