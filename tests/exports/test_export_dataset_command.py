"""export_dataset: a thin command-line door to the dataset export service."""
import csv

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.exports.exported import read_provenance
from tests.exports.populated import make_derived_patient


def _rows(path):
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def test_export_dataset_writes_the_dataset_and_its_provenance(site_a, site_b, tmp_path, capsys):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    output = tmp_path / "endpoints.csv"

    call_command("export_dataset", "endpoints", "--format", "csv", "--output", str(output))

    rows = _rows(output)
    assert rows[0][:4] == ["record_id", "site", "line_no", "paramcd"]
    assert [(row[0], row[2], row[3]) for row in rows[1:]] == [
        ("A-1", "1", "PFS"), ("A-1", "1", "OS"), ("A-1", "2", "PFS"), ("A-1", "2", "OS"),
        ("B-1", "1", "PFS"), ("B-1", "1", "OS"), ("B-1", "2", "PFS"), ("B-1", "2", "OS"),
    ]
    assert read_provenance(output)["rows"] == 8
    assert capsys.readouterr().out == (
        f"Exported 8 rows of endpoints to {output} "
        f"(codebook: {output}.codebook.csv, provenance: {output}.provenance.json).\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "endpoints.csv", "endpoints.csv.codebook.csv", "endpoints.csv.provenance.json",
    ]


def test_export_dataset_for_one_site_or_as_a_user(site_a, site_b, coordinator_a, tmp_path):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    only_b, as_coordinator = tmp_path / "b.csv", tmp_path / "a.csv"

    call_command("export_dataset", "patients", "--output", str(only_b), "--site", "site-b")
    call_command("export_dataset", "patients", "--output", str(as_coordinator), "--user", "coordinator_a")

    assert [row[:2] for row in _rows(only_b)[1:]] == [["B-1", "site-b"]]
    assert [row[:2] for row in _rows(as_coordinator)[1:]] == [["A-1", "site-a"]]


def test_export_dataset_refuses_an_unknown_dataset_site_user_or_format(db, tmp_path):
    output = tmp_path / "out.csv"

    with pytest.raises(CommandError, match="Unknown dataset 'survival'; choose one of lines, endpoints, "
                                           "assessments, biopsies, patients"):
        call_command("export_dataset", "survival", "--output", str(output))
    with pytest.raises(CommandError, match="No site with the code 'nowhere'"):
        call_command("export_dataset", "lines", "--output", str(output), "--site", "nowhere")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("export_dataset", "lines", "--output", str(output), "--user", "nobody")
    with pytest.raises(CommandError, match="invalid choice: 'json'"):
        call_command("export_dataset", "lines", "--output", str(output), "--format", "json")
    assert list(tmp_path.iterdir()) == []


def test_export_dataset_writes_any_format_of_any_dataset(site_a, tmp_path, capsys):
    make_derived_patient(site_a, "A-1")
    output = tmp_path / "treatment_line.sav"

    call_command("export_dataset", "treatment_line", "--format", "sav", "--output", str(output))

    assert capsys.readouterr().out.startswith(f"Exported 2 rows of treatment_line to {output} ")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "treatment_line.sav", "treatment_line.sav.codebook.csv", "treatment_line.sav.provenance.json",
    ]


def test_export_dataset_deidentifies_with_the_setting_or_a_key_file(site_a, tmp_path, settings, capsys):
    make_derived_patient(site_a, "A-1")
    settings.DEIDENTIFICATION_KEY = "k" * 32
    key_file = tmp_path / "export.key"
    key_file.write_text("another key of at least thirty-two characters\n", encoding="utf-8")
    configured, given = tmp_path / "configured.csv", tmp_path / "given.csv"

    call_command("export_dataset", "patients", "--output", str(configured), "--deidentify")
    call_command("export_dataset", "patients", "--output", str(given), "--deidentify",
                 "--deidentification-key-file", str(key_file))

    assert "Exported 1 de-identified rows of patients" in capsys.readouterr().out
    assert read_provenance(configured)["deidentification"]["key_source"] == "REGISTRY_DEIDENTIFICATION_KEY"
    assert read_provenance(given)["deidentification"]["key_source"] == "given for this export"
    assert "A-1" not in configured.read_text(encoding="utf-8") + given.read_text(encoding="utf-8")
    assert _rows(configured)[1][0] != _rows(given)[1][0]


def test_export_dataset_refuses_what_may_not_be_exported_and_writes_nothing(site_a, tmp_path, settings):
    make_derived_patient(site_a, "A-1")
    factories.make_user("dr_lee", role="investigator")
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY
    output = tmp_path / "out" / "patients.csv"
    output.parent.mkdir()

    with pytest.raises(CommandError, match="dr_lee \\(investigator\\) may export de-identified data only"):
        call_command("export_dataset", "patients", "--output", str(output), "--user", "dr_lee")
    with pytest.raises(CommandError, match="De-identified exports need a key"):
        call_command("export_dataset", "patients", "--output", str(output), "--user", "dr_lee", "--deidentify")
    with pytest.raises(CommandError, match="--deidentification-key-file is for de-identified exports"):
        call_command("export_dataset", "patients", "--output", str(output), "--deidentification-key-file", "x")
    with pytest.raises(CommandError, match="Cannot read the key file"):
        call_command("export_dataset", "patients", "--output", str(output), "--deidentify",
                     "--deidentification-key-file", str(tmp_path / "missing.key"))
    assert list(output.parent.iterdir()) == []
