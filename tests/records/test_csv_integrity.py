"""Malformed CSV through the command and the admin's REDCap upload: a problem with its line, nothing
written. (The REST and REDCap API doors: tests/api/test_bounded_parsers.py, tests/redcap/.)"""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from registry.records.flat_source import checked_csv_rows

from .malformed_csv import MALFORMED_CSV, vitals


@pytest.mark.parametrize("kind", MALFORMED_CSV)
def test_the_import_command_reports_a_malformed_csv_with_its_line_and_writes_nothing(
    alive_patients, tmp_path, capsys, kind,
):
    text, line, reason = MALFORMED_CSV[kind]
    path = tmp_path / "vital.csv"
    path.write_text(text)

    with pytest.raises(CommandError, match=r"^1 problem\(s\) in vital.csv; nothing was imported.$"):
        call_command("import_records", str(path), "--site", "site-a")

    assert capsys.readouterr().out.splitlines()[1:] == [f"{line}\t\t\t\t\t\t{reason}"]
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


@pytest.mark.parametrize("kind", MALFORMED_CSV)
def test_the_admin_redcap_upload_reports_a_malformed_csv_with_its_line_and_writes_nothing(
    client, coordinator_a, site_a, alive_patients, settings, tmp_path, kind,
):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    client.force_login(coordinator_a)
    text, line, reason = MALFORMED_CSV[kind]

    response = client.post(reverse("admin:registry_patient_import_redcap"), {
        "file": SimpleUploadedFile("vital.csv", text.encode(), content_type="text/csv"),
        "site": site_a.id,
        "overwrite_behavior": "normal",
    })

    assert response.status_code == 200
    assert [tuple(vars(problem).values()) for problem in response.context["result"].problems] == [
        (line, "", "", "", "", "", reason),
    ]
    assert response.context["token"] is None
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def rows_and_problems(text: str, delimiter: str = ","):
    problems = []
    rows = list(checked_csv_rows(io.StringIO(text, newline=""), lambda *problem: problems.append(problem), delimiter))
    return rows, problems


def test_a_quoted_value_may_span_lines_and_rows_keep_their_first_physical_line():
    rows, problems = rows_and_problems('a,b\r\n1,"x\r\ny"\r\n2,"say ""hi"""\r\n')

    assert rows == [(1, ["a", "b"]), (2, ["1", "x\r\ny"]), (4, ["2", 'say "hi"'])]
    assert problems == []


def test_a_quote_never_closed_in_a_very_long_tail_is_reported_at_the_line_it_opens():
    # Longer than the csv module's field limit (131,072 characters): csv raises, the line is still known.
    rows, problems = rows_and_problems('a,b\n1,2\n3,"' + "x\n" * 100_000)

    assert rows == [(1, ["a", "b"]), (2, ["1", "2"])]
    assert problems == [(3, "", "", "has a quote that is never closed: the value it opens on line 3 would take "
                                     "in every line after it")]


def test_a_quoting_fault_is_found_with_another_delimiter():
    rows, problems = rows_and_problems('a;b\n1;"x;y"\n2;x"y\n', ";")

    assert rows == [(1, ["a", "b"]), (2, ["1", "x;y"]), (3, None)]
    assert [problem[0] for problem in problems] == [3]


def test_an_unquoted_value_longer_than_the_csv_field_limit_is_reported_at_its_line():
    rows, problems = rows_and_problems("a,b\n1,2\n3," + "x" * 200_000 + "\n4,5\n")

    assert rows == [(1, ["a", "b"]), (2, ["1", "2"])]
    assert problems == [(3, "", "", "cannot be read as CSV (field larger than field limit (131072))")]
