"""The admin's spreadsheet import checks an upload before django-import-export opens it: malformed CSV
(with its line), an .xlsx zip bomb, formats the registry does not offer. Nothing is written."""
import io
import zipfile

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from registry.models import Patient
from tests.records.malformed_csv import MALFORMED_CSV, vitals

IMPORT_URL = "admin:registry_patient_import"


def upload(client, name: str, data: bytes, file_format):
    formats = admin.site.get_model_admin(Patient).get_import_formats()
    return client.post(reverse(IMPORT_URL), {
        "import_file": SimpleUploadedFile(name, data), "format": str(formats.index(file_format)), "resource": "0",
    })


def test_the_spreadsheet_import_offers_csv_and_excel_only():
    assert admin.site.get_model_admin(Patient).get_import_formats() == [CSV, XLSX]


@pytest.mark.parametrize("kind", MALFORMED_CSV)
def test_a_malformed_csv_spreadsheet_is_refused_with_its_line_and_writes_nothing(
    coordinator_client, alive_patients, kind,
):
    text, line, reason = MALFORMED_CSV[kind]

    response = upload(coordinator_client, "vital.csv", text.encode(), CSV)

    assert response.status_code == 200
    assert response.context["form"].errors == {"import_file": [f"Line {line} {reason}."]}
    assert "result" not in response.context
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def zip_bomb(sheet_bytes: int) -> bytes:
    """An .xlsx-shaped archive whose sheet inflates to `sheet_bytes` of one repeated byte."""
    archive = io.BytesIO()
    # Level 1: quick to build, and still more than 200 to 1 on a repeated byte.
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        with workbook.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"0" * (1024 * 1024)
            for _ in range(sheet_bytes // len(block)):
                sheet.write(block)
    return archive.getvalue()


def test_an_xlsx_zip_bomb_is_refused_unopened_and_writes_nothing(coordinator_client, alive_patients):
    bomb = zip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # the upload itself is small

    response = upload(coordinator_client, "vital.xlsx", bomb, XLSX)

    assert response.status_code == 200
    assert response.context["form"].errors == {"import_file": [
        "The workbook would take 209715208 bytes once opened, more than the 52428800 bytes a spreadsheet "
        "import may use.",
    ]}
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def test_an_xlsx_part_compressed_like_a_bomb_is_refused_even_under_the_size_bound(coordinator_client, alive_patients):
    response = upload(coordinator_client, "vital.xlsx", zip_bomb(20 * 1024 * 1024), XLSX)

    assert response.context["form"].errors == {"import_file": [
        "The workbook's part xl/worksheets/sheet1.xml is compressed more than 100 to 1, which no spreadsheet "
        "is: it is refused unopened.",
    ]}
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def test_a_file_that_is_not_a_zip_archive_is_refused_as_an_excel_workbook(coordinator_client, alive_patients):
    response = upload(coordinator_client, "vital.xlsx", b"record_id,vital\nP-1,2\n", XLSX)

    assert response.context["form"].errors == {"import_file": ["The file is not an Excel workbook (.xlsx)."]}
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def test_a_well_formed_csv_spreadsheet_passes_the_checks_to_the_import_preview(coordinator_client, alive_patients):
    response = upload(coordinator_client, "vital.csv", b"record_id,vital,death_date\nP-1,2,2024-01-01\n", CSV)

    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]  # a preview: written only once confirmed
