"""The REDCap import page (upload → preview → confirm) and the REDCap export button."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import Patient, RegistryRole, Role
from tests import factories

from .admin_pages import changelist_url

IMPORT_URL = "admin:registry_patient_import_redcap"
CONFIRM_URL = "admin:registry_patient_confirm_redcap"
EXPORT_URL = "admin:registry_patient_export_redcap"
HEADER = "record_id,redcap_repeat_instrument,redcap_repeat_instance,vital,death_date\n"


@pytest.fixture(autouse=True)
def staging_dir(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    return settings.IMPORT_STAGING_DIR


def upload(client, site, text: str, *, name="vital.csv", overwrite_behavior="normal"):
    return client.post(reverse(IMPORT_URL), {
        "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
        "site": site.id, "overwrite_behavior": overwrite_behavior,
    })


def test_the_import_page_offers_only_the_sites_the_coordinator_may_change(coordinator_client, site_a, site_b):
    response = coordinator_client.get(reverse(IMPORT_URL))

    assert response.status_code == 200
    assert list(response.context["form"].fields["site"].queryset) == [site_a]


def test_the_patient_list_has_import_and_export_buttons_for_a_coordinator(coordinator_client, site_a):
    response = coordinator_client.get(changelist_url(Patient))

    page = response.content.decode()
    assert reverse(IMPORT_URL) in page
    assert reverse(EXPORT_URL) in page


def test_a_viewer_with_the_identified_grant_sees_the_export_button_but_not_the_import_button(client, viewer_a):
    RegistryRole.objects.filter(user=viewer_a).update(may_export_identified=True)
    client.force_login(viewer_a)

    response = client.get(changelist_url(Patient))

    page = response.content.decode()
    assert reverse(IMPORT_URL) not in page
    assert reverse(EXPORT_URL) in page


def test_a_viewer_without_the_identified_grant_sees_neither_button(client, viewer_a):
    client.force_login(viewer_a)

    page = client.get(changelist_url(Patient)).content.decode()

    assert reverse(IMPORT_URL) not in page
    assert reverse(EXPORT_URL) not in page


def test_a_file_with_problems_lists_them_imports_nothing_and_keeps_no_staged_file(
    coordinator_client, site_a, staging_dir,
):
    factories.make_patient(site_a, "P-1", vital=1)

    response = upload(coordinator_client, site_a, HEADER + "P-1,,,7,2024-01-01\n")

    assert response.status_code == 200
    assert [tuple(vars(problem).values()) for problem in response.context["result"].problems] == [
        (2, "P-1", "vital_status", "", "vital", "7",
         "is not a code of this field (1 Alive, 2 Dead, 3 Lost to follow-up)"),
    ]
    assert response.context["token"] is None
    assert "Confirm import" not in response.content.decode()
    assert Patient.objects.get(record_id="P-1").vital == 1
    assert list(staging_dir.iterdir()) == []


def test_a_clean_file_is_previewed_with_its_changes_and_nothing_is_imported_before_confirmation(
    coordinator_client, site_a, staging_dir,
):
    factories.make_patient(site_a, "P-1", vital=1)

    response = upload(coordinator_client, site_a, HEADER + "P-1,,,2,2024-01-01\n")

    assert response.status_code == 200
    assert response.context["summary"] == [("enrollment", 0, 0, 1), ("vital_status", 0, 1, 0)]
    change = response.context["result"].changes[0]
    assert (change.record, change.instrument, change.action, change.changes) == (
        "P-1", "vital_status", "update", {"vital": ("1", "2"), "death_date": ("", "2024-01-01")},
    )
    assert "vital: 1 → 2" in response.content.decode()
    assert [path.name for path in staging_dir.iterdir()] == [response.context["token"]]
    assert Patient.objects.get(record_id="P-1").vital == 1


def test_confirming_imports_the_file_by_the_admin_import_door_and_deletes_the_staged_file(
    coordinator_client, coordinator_a, site_a, staging_dir,
):
    factories.make_patient(site_a, "P-1", vital=1)
    preview = upload(coordinator_client, site_a, HEADER + "P-1,,,2,2024-01-01\n")

    response = coordinator_client.post(reverse(CONFIRM_URL), {"token": preview.context["token"]}, follow=True)

    assert response.redirect_chain == [(changelist_url(Patient), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "Imported vital.csv: 0 instances created, 1 updated, 1 unchanged.",
    ]
    patient = Patient.objects.get(record_id="P-1")
    assert patient.vital == 2
    latest = patient.history.latest("history_date")
    assert (latest.history_change_reason, latest.history_user) == ("admin import: vital.csv", coordinator_a)
    assert list(staging_dir.iterdir()) == []


def test_a_token_can_be_confirmed_only_once_and_only_in_the_session_that_uploaded_it(
    client, coordinator_client, site_a,
):
    factories.make_patient(site_a, "P-1", vital=1)
    token = upload(coordinator_client, site_a, HEADER + "P-1,,,2,2024-01-01\n").context["token"]
    colleague = factories.make_user(role=Role.COORDINATOR, sites=[site_a])
    client.force_login(colleague)

    from_another_session = client.post(reverse(CONFIRM_URL), {"token": token})

    assert from_another_session.status_code == 404
    assert Patient.objects.get(record_id="P-1").vital == 1
    coordinator_client.post(reverse(CONFIRM_URL), {"token": token})
    assert coordinator_client.post(reverse(CONFIRM_URL), {"token": token}).status_code == 404


def test_a_site_the_coordinator_may_not_change_is_refused_by_the_form(coordinator_client, site_b, staging_dir):
    response = upload(coordinator_client, site_b, HEADER + "P-9,,,1,\n")

    assert response.context["form"].errors == {
        "site": ["Select a valid choice. That choice is not one of the available choices."],
    }
    assert not staging_dir.exists()


def test_a_file_that_is_neither_csv_nor_json_is_refused_by_the_form(coordinator_client, site_a):
    response = upload(coordinator_client, site_a, HEADER, name="records.xlsx")

    assert response.context["form"].errors == {"file": ["Choose a .csv or .json file exported from REDCap."]}


def exported_records(response) -> list[str]:
    text = b"".join(response.streaming_content).decode()
    return [row["record_id"] for row in csv.DictReader(io.StringIO(text))]


def test_the_export_streams_the_flat_csv_of_the_patients_the_user_may_see(coordinator_client, site_a, site_b):
    factories.make_patient(site_a, "P-A")
    factories.make_patient(site_b, "P-B")

    response = coordinator_client.get(reverse(EXPORT_URL))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert exported_records(response) == ["P-A"]


def test_the_export_keeps_the_changelist_filters(client, site_a, site_b):
    investigator = factories.make_user(role=Role.INVESTIGATOR)
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    factories.make_patient(site_a, "P-A", vital=1)
    factories.make_patient(site_b, "P-B", vital=2)
    factories.make_patient(site_b, "P-C", vital=1)
    client.force_login(investigator)

    response = client.get(reverse(EXPORT_URL), {"site": site_b.id, "vital__exact": 1})

    assert exported_records(response) == ["P-C"]
