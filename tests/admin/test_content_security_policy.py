"""Every page carries the Content-Security-Policy, and none of ours holds inline script or style.

The policy (django-csp, config/settings/base.py): default-src 'self'; script-src 'self'; style-src
'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'. A page is checked as
rendered: no <script> without src, no <style> element, no style="..." attribute, no on...="..."
event handler, no javascript: URL; each would be refused by the browser under this policy.
"""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV

from registry.models import NgsVariant
from tests import factories

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
}
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def policy_of(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {name: values for name, *values in directives}


def inline_code(html: str) -> dict[str, list[str]]:
    return {kind: pattern.findall(html) for kind, pattern in INLINE.items() if pattern.findall(html)}


@pytest.fixture
def admin_client(client, administrator, site_a, tmp_path, settings):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    client.force_login(administrator)
    client.patient = factories.make_full_patient(site_a, "P-1")
    return client


PAGES = {
    "admin index": lambda client: reverse("admin:index"),
    "patient list": lambda client: reverse("admin:registry_patient_changelist"),
    "patient change form": lambda client: reverse("admin:registry_patient_change", args=[client.patient.pk]),
    "patient add form": lambda client: reverse("admin:registry_patient_add"),
    "patient history": lambda client: reverse("admin:registry_patient_history", args=[client.patient.pk]),
    "audit trail": lambda client: reverse("admin:registry_patient_audit_trail", args=[client.patient.pk]),
    "study report": lambda client: reverse("admin:registry_patient_study_report"),
    "data-quality flags": lambda client: reverse("admin:registry_patient_data_quality"),
    "REDCap import": lambda client: reverse("admin:registry_patient_import_redcap"),
    "spreadsheet import": lambda client: reverse("admin:registry_ngsvariant_import"),
    "spreadsheet export": lambda client: reverse("admin:registry_ngsvariant_export"),
    "variant list": lambda client: reverse("admin:registry_ngsvariant_changelist"),
    "variant change form": lambda client: reverse(
        "admin:registry_ngsvariant_change", args=[NgsVariant.objects.get().pk]),
    "export jobs": lambda client: reverse("admin:registry_exportjob_changelist"),
    "export job request": lambda client: reverse("admin:registry_exportjob_add"),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_an_admin_page_has_the_policy_and_no_inline_script_or_style(admin_client, page):
    response = admin_client.get(PAGES[page](admin_client))

    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == {}


def test_the_redcap_import_preview_has_the_policy_and_no_inline_script_or_style(admin_client, site_a):
    text = "record_id,redcap_repeat_instrument,redcap_repeat_instance,vital\nP-1,,,1\n"

    response = admin_client.post(reverse("admin:registry_patient_import_redcap"), {
        "file": SimpleUploadedFile("vital.csv", text.encode(), content_type="text/csv"),
        "site": site_a.id, "overwrite_behavior": "normal",
    })

    assert response.status_code == 200
    assert response.context["token"] is not None  # the preview, waiting for confirmation
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == {}


def test_the_spreadsheet_import_preview_has_the_policy_and_no_inline_script_or_style(admin_client):
    text = "record_id,var_bx_date,var_gene,var_kind,var_protein,var_partner\nP-1,2022-01-25,ALK,1,L1196M,\n"

    response = admin_client.post(reverse("admin:registry_ngsvariant_import"), {
        "import_file": SimpleUploadedFile("variants.csv", text.encode(), content_type="text/csv"),
        "format": "0", "resource": "0",
    })

    assert response.status_code == 200
    assert "confirm_form" in response.context  # the preview, waiting for confirmation
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == {}


def test_the_spreadsheet_import_reads_the_first_import_format_as_csv():
    # The preview test above posts format "0": it must be CSV for its file to be read.
    from django.contrib import admin

    assert admin.site.get_model_admin(NgsVariant).get_import_formats()[0] is CSV


def test_the_swagger_docs_page_has_the_policy_and_no_inline_script_or_style(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == {}


def test_the_redoc_page_has_the_policy_with_its_own_nonce_for_redocs_styles(client, db):
    response = client.get("/api/redoc/")

    html = response.content.decode()
    [nonce] = re.findall(r'data-nonce="([^"]+)"', html)
    # Besides its nonce, ReDoc's page allows exactly the two style attributes ReDoc sets itself (seen as
    # violations in Chromium), by hash: an empty one, sha256 of b"" = 47DEQ..., and one of its own.
    assert policy_of(response) == {**POLICY, "style-src": [
        "'self'", f"'nonce-{nonce}'", "'unsafe-hashes'", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ]}
    assert inline_code(html) == {}


def test_each_request_of_the_redoc_page_gets_a_new_nonce(client, db):
    first, second = (policy_of(client.get("/api/redoc/"))["style-src"][1] for _ in range(2))

    assert first != second
