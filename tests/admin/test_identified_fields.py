"""The admin hides the data dictionary's identifier fields (mrn, birth_date) from users who read
de-identified data only, on every page that could show them, and refuses them the identified files
(the REDCap flat export, the spreadsheets); the identified files it gives others are logged.

A patient whose MRN and birth date were changed once, so that the old and the new values are in its
history and audit trail too. The same pages opened by a reader with the grant do show the values:
the absence below is the rule's doing, not a page that never shows them.
"""
import csv
import io
from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from registry.models import ExportDoor, IdentifiedExport, NgsVariant, Patient, RegistryRole, Role
from registry.records.spreadsheet_formats import SpreadsheetCSV
from tests import factories

from .admin_pages import change_url, changelist_url

OLD_MRN, MRN = "MRN-0001-BEFORE", "MRN-4471-SECRET"
# The birth dates as the pages write them: ISO (history), the registry's DATE_FORMAT (read-only fields) and
# its first DATE_INPUT_FORMATS (form inputs).
IDENTIFIER_TEXTS = [OLD_MRN, MRN, "1957-04-09", "9 Apr 1957", "09/04/1957", "1961-12-30", "30 Dec 1961",
                    "30/12/1961"]


@pytest.fixture
def patient(site_a):
    patient = factories.make_full_patient(site_a, "P-A")
    patient.mrn, patient.birth_date = OLD_MRN, date(1961, 12, 30)
    patient._change_reason = "admin"
    patient.save()
    patient.mrn, patient.birth_date = MRN, date(1957, 4, 9)
    patient.save()
    return patient


def reader(role: str, site_a, *, granted: bool):
    user = (factories.make_user("investigator", role=Role.INVESTIGATOR) if role == "investigator"
            else factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a]))
    RegistryRole.objects.filter(user=user).update(may_export_identified=granted)
    return user


def patient_pages(patient: Patient) -> dict[str, str]:
    """Every admin page about patients that could show an identifier (the study report, counts and
    survival curves only, is left out: it holds no patient's values and takes seconds to build)."""
    history = Patient.history.filter(id=patient.pk).order_by("history_id")
    return {
        "changelist": changelist_url(Patient),
        "change form": change_url(patient),
        "history": change_url(patient).replace("/change/", "/history/"),
        "history of the old version": change_url(patient).replace("/change/", f"/history/{history[1].history_id}/"),
        "audit trail": reverse("admin:registry_patient_audit_trail", args=[patient.pk]),
        "data quality": reverse("admin:registry_patient_data_quality"),
        "treatment line": change_url(patient.treatment_lines.get()),
    }


def shown(client, url: str) -> tuple[int, list[str]]:
    response = client.get(url)
    content = response.content.decode()
    return response.status_code, [text for text in IDENTIFIER_TEXTS if text in content]


@pytest.mark.parametrize("role", ["investigator", "viewer of A"])
def test_a_reader_without_the_grant_sees_no_identifier_on_any_patient_page(client, patient, site_a, role):
    client.force_login(reader(role, site_a, granted=False))

    seen = {name: shown(client, url) for name, url in patient_pages(patient).items()}

    assert seen == {name: (200, []) for name in seen}
    # Searching the list by an MRN finds nothing either (the page echoes the search term itself).
    assert list(client.get(changelist_url(Patient), {"q": MRN}).context["cl"].result_list) == []


def test_a_reader_with_the_grant_sees_the_identifiers_on_the_patient_pages(client, patient, site_a):
    client.force_login(reader("investigator", site_a, granted=True))
    pages = patient_pages(patient)

    seen = {name: shown(client, pages[name]) for name in ("change form", "history", "history of the old version",
                                                          "audit trail")}

    assert seen["change form"] == (200, [MRN, "9 Apr 1957"])
    assert seen["history of the old version"] == (200, [OLD_MRN, "30/12/1961"])
    # The history and the audit trail list both changes, old and new values.
    assert seen["history"] == (200, [OLD_MRN, MRN, "1957-04-09", "1961-12-30"])
    assert seen["audit trail"][0] == 200 and {OLD_MRN, MRN} <= set(seen["audit trail"][1])


def test_the_change_form_of_a_reader_without_the_grant_has_no_identifier_field(client, patient, site_a):
    client.force_login(reader("viewer of A", site_a, granted=False))

    response = client.get(change_url(patient))

    fields = {name for line in response.context["adminform"] for row in line for field in row
              for name in [field.field["name"] if isinstance(field.field, dict) else field.field.name]}
    assert {"record_id", "sex", "adv_dx_date"} <= fields
    assert not {"mrn", "birth_date"} & fields


def _spreadsheet_post(client):
    model_admin = admin.site.get_model_admin(NgsVariant)
    data = {"format": str(model_admin.get_export_formats().index(SpreadsheetCSV)), "resource": "0",
            "ngsvariantresource_record_id": "on", "ngsvariantresource_var_gene": "on"}
    return client.post(reverse("admin:registry_ngsvariant_export"), data)


@pytest.mark.parametrize("role", ["investigator", "viewer of A"])
def test_a_reader_without_the_grant_is_refused_the_redcap_export_and_the_spreadsheets(client, patient, site_a, role):
    client.force_login(reader(role, site_a, granted=False))

    redcap = client.get(reverse("admin:registry_patient_export_redcap"))
    spreadsheet = _spreadsheet_post(client)
    export_form = client.get(reverse("admin:registry_ngsvariant_export"))
    changelist = client.get(changelist_url(Patient))

    assert (redcap.status_code, spreadsheet.status_code, export_form.status_code) == (403, 403, 403)
    assert reverse("admin:registry_patient_export_redcap").encode() not in changelist.content
    assert IdentifiedExport.objects.count() == 0


def test_the_redcap_export_and_a_spreadsheet_by_a_coordinator_are_logged(client, patient, site_b, coordinator_a):
    factories.make_full_patient(site_b, "P-B")
    client.force_login(coordinator_a)

    redcap = client.get(reverse("admin:registry_patient_export_redcap") + "?q=P-A")
    spreadsheet = _spreadsheet_post(client)

    assert redcap.status_code == 200 and spreadsheet.status_code == 200
    redcap_rows = list(csv.DictReader(io.StringIO(b"".join(redcap.streaming_content).decode())))
    assert {row["record_id"] for row in redcap_rows} == {"P-A"} and redcap_rows[0]["mrn"] == MRN
    logged = list(IdentifiedExport.objects.order_by("id").values(
        "user", "door", "content", "file_format", "site_codes", "record_count", "parameters"))
    assert logged == [
        {"user": coordinator_a.pk, "door": ExportDoor.ADMIN_REDCAP_RECORDS, "content": "records", "file_format": "csv",
         "site_codes": "site-a", "record_count": 1, "parameters": {"rows": len(redcap_rows), "filters": "q=P-A"}},
        {"user": coordinator_a.pk, "door": ExportDoor.ADMIN_SPREADSHEET, "content": "ngsvariant", "file_format": "csv",
         "site_codes": "site-a", "record_count": 1, "parameters": {"filters": ""}},
    ]


def test_a_coded_identifier_is_hidden_with_its_field_from_a_reader_without_the_grant(client, patient, site_a):
    # The MRN is replaced by a missing-data code: its history now holds mrn -> "" and mrn_missing -> "NASK".
    # A page that hides the MRN hides its code too: the code is what is stored of the field.
    patient.mrn, patient.mrn_missing = "", "NASK"
    patient.save()
    client.force_login(reader("viewer of A", site_a, granted=False))
    pages = patient_pages(patient)

    contents = {name: client.get(pages[name]).content.decode() for name in ("change form", "history", "audit trail")}

    assert {name: ("NASK" in content, "mrn_missing" in content) for name, content in contents.items()} == {
        name: (False, False) for name in contents}
    client.force_login(reader("investigator", site_a, granted=True))
    assert "NASK" in client.get(pages["history"]).content.decode()  # shown to a reader with the grant
    # The audit trail files a code's change under its field's form (it crashed on `mrn_missing`).
    trail = client.get(pages["audit trail"])
    assert trail.status_code == 200
    assert [entry.instrument for entry in trail.context["page_obj"]
            if any(change.field == "mrn_missing" for change in entry.changes)] == ["enrollment"]
