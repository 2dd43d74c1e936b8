"""Per-instrument spreadsheets (django-import-export) on the variant and patient admins, scoped by site."""
import csv
import io

from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV

from registry.models import NgsVariant, Patient, RegistryRole
from registry.records.spreadsheet_formats import SpreadsheetCSV
from tests import factories

from .admin_pages import changelist_url


def export_as_csv(client, model, resource_name: str) -> list[dict]:
    """Press the admin's Export button for `model`, CSV, every column."""
    model_admin = admin.site.get_model_admin(model)
    resource = model_admin.get_export_resource_classes(None)[0]
    data = {"format": str(model_admin.get_export_formats().index(SpreadsheetCSV)), "resource": "0"}
    data.update({f"{resource_name}_{field}": "on" for field in resource().get_export_order()})
    response = client.post(reverse(f"admin:registry_{model._meta.model_name}_export"), data)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_variant_export_holds_only_the_variants_of_patients_the_user_may_see(
    coordinator_client, site_a, site_b,
):
    factories.make_full_patient(site_a, "P-A")
    factories.make_full_patient(site_b, "P-B")

    rows = export_as_csv(coordinator_client, NgsVariant, "ngsvariantresource")

    assert [(row["record_id"], row["var_gene"], row["var_protein"]) for row in rows] == [("P-A", "ALK", "G1202R")]


def test_the_vital_status_export_holds_only_the_patients_the_user_may_see(coordinator_client, site_a, site_b):
    factories.make_full_patient(site_a, "P-A")
    factories.make_full_patient(site_b, "P-B")

    rows = export_as_csv(coordinator_client, Patient, "vitalstatusresource")

    assert [(row["record_id"], row["vital"]) for row in rows] == [("P-A", "1")]


def test_a_viewer_with_the_identified_grant_sees_the_variant_export_button_but_not_the_import_button(
    client, viewer_a,
):
    RegistryRole.objects.filter(user=viewer_a).update(may_export_identified=True)
    client.force_login(viewer_a)

    page = client.get(changelist_url(NgsVariant)).content.decode()

    assert reverse("admin:registry_ngsvariant_export") in page
    assert reverse("admin:registry_ngsvariant_import") not in page
    assert client.get(reverse("admin:registry_ngsvariant_import")).status_code == 403


def test_a_coordinator_sees_the_vital_status_import_button(coordinator_client):
    page = coordinator_client.get(changelist_url(Patient)).content.decode()

    assert reverse("admin:registry_patient_import") in page


def test_a_variant_import_for_another_sites_patient_is_refused_and_writes_nothing(
    coordinator_client, site_b,
):
    factories.make_biopsy(factories.make_patient(site_b, "P-B"))
    model_admin = admin.site.get_model_admin(NgsVariant)
    text = "record_id,var_bx_date,var_gene,var_kind,var_protein,var_partner\nP-B,2022-01-25,ALK,1,G1202R,\n"

    response = coordinator_client.post(reverse("admin:registry_ngsvariant_import"), {
        "import_file": SimpleUploadedFile("variants.csv", text.encode(), content_type="text/csv"),
        "format": str(model_admin.get_import_formats().index(CSV)), "resource": "0",
    })

    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    assert [row.error_dict for row in result.invalid_rows] == [
        {"record_id": ["record P-B does not exist or is not at a site you can change"]},
    ]
    assert "confirm_form" not in response.context
    assert NgsVariant.objects.count() == 0
