"""Who may see and change what, through every admin door: roles × patients at sites A and B.

A coordinator of site A never sees or changes site B's patients; investigators see everything and
change nothing; viewers read their sites; a user without a role gets nothing. Forbidden writes
leave the database as it was.
"""
import csv
import io

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from registry.records.spreadsheet_formats import SpreadsheetCSV

from registry.models import NgsVariant, Patient, TreatmentLine
from tests import factories
from tests.access_roles import (  # noqa: F401 - world is a fixture
    CHANGES, IDENTIFIED, SEES, WRITERS, matrix, roles, user_for, world,
)

from .admin_pages import change_url, changelist_url, delete_url, form_data_of

# Once, on SQLite: the access rules are decided in Python over the same querysets on both.
pytestmark = pytest.mark.one_database("sqlite")



@pytest.fixture
def as_role(client, world, request):
    """The test client logged in as the parametrized role."""
    client.force_login(user_for(request.node.callspec.params["role"], world))
    return client


def expected_page_status(role: str, site: str) -> int:
    """A change page: shown to whoever sees the site; for everyone else the object does not exist (404)."""
    return 200 if site in SEES[role] else 404


def expected_post_status(role: str, site: str) -> int:
    """Saving a change page: done (redirect to the list) by whoever may change the site; refused
    (403) to whoever sees it but may not change it; for everyone else the object does not exist (404)."""
    if site in CHANGES[role]:
        return 302
    return 403 if site in SEES[role] else 404


def listed_record_ids(response) -> list[str]:
    return [getattr(row, "record_id", None) or row.patient.record_id for row in response.context["cl"].result_list]


def administrator_form_data(obj) -> dict:
    administrator = Client()
    administrator.force_login(factories.make_user(superuser=True))
    return form_data_of(administrator.get(change_url(obj)))


# ------------------------------------------------------------------ patient changelist


@roles
@matrix
def test_patient_changelist_lists_a_patient_only_to_those_who_see_its_site(as_role, world, role, site):
    response = as_role.get(changelist_url(Patient))

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert (f"P-{site}" in listed_record_ids(response)) == (site in SEES[role])


@roles
@matrix
def test_searching_the_patient_changelist_by_record_id_finds_only_visible_patients(as_role, world, role, site):
    response = as_role.get(changelist_url(Patient), {"q": f"P-{site}"})

    if role == "no role":
        assert response.status_code == 403
        return
    assert listed_record_ids(response) == ([f"P-{site}"] if site in SEES[role] else [])


@roles
@matrix
def test_filtering_the_patient_changelist_by_a_site_in_the_url_shows_nothing_the_user_may_not_see(
    as_role, world, role, site,
):
    response = as_role.get(changelist_url(Patient), {"site": world.sites[site].id})

    if role == "no role":
        assert response.status_code == 403
        return
    assert listed_record_ids(response) == ([f"P-{site}"] if site in SEES[role] else [])


# ------------------------------------------------------------------ patient change page


@roles
@matrix
def test_the_patient_change_page_opens_only_for_those_who_see_its_site(as_role, world, role, site):
    response = as_role.get(change_url(world.patients[site]))

    assert response.status_code == expected_page_status(role, site)


@roles
@matrix
def test_saving_the_patient_page_changes_the_patient_only_for_those_who_may_change_its_site(
    as_role, world, role, site,
):
    patient = world.patients[site]
    data = administrator_form_data(patient)
    data["sex"] = "1"

    response = as_role.post(change_url(patient), data)

    assert response.status_code == expected_post_status(role, site)
    changed = site in CHANGES[role]
    assert Patient.objects.get(pk=patient.pk).sex == (1 if changed else 2)
    if changed:
        assert response["Location"] == changelist_url(Patient)


@roles
@matrix
def test_only_administrators_may_delete_a_patient(as_role, world, role, site):
    patient = world.patients[site]

    response = as_role.post(delete_url(patient), {"post": "yes"})

    deleted = role == "administrator"
    assert response.status_code == (302 if deleted else 403 if site in SEES[role] else 404)
    assert Patient.objects.filter(pk=patient.pk).exists() is not deleted


# ------------------------------------------------------------------ instruments


def instrument_instances(patient):
    return {
        "treatment line": patient.treatment_lines.get(),
        "tumor assessment": patient.tumor_assessments.get(),
        "lesion measurement": patient.lesion_measurements.get(),
        "NGS variant": patient.ngs_variants.get(),
    }


instruments = pytest.mark.parametrize(
    "instrument", ["treatment line", "tumor assessment", "lesion measurement", "NGS variant"],
)


@roles
@matrix
@instruments
def test_an_instrument_changelist_lists_an_instance_only_to_those_who_see_its_site(
    as_role, world, role, site, instrument,
):
    instance = instrument_instances(world.patients[site])[instrument]

    response = as_role.get(changelist_url(type(instance)))

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert (f"P-{site}" in listed_record_ids(response)) == (site in SEES[role])


@roles
@matrix
@instruments
def test_an_instrument_change_page_opens_only_for_those_who_see_its_site(as_role, world, role, site, instrument):
    instance = instrument_instances(world.patients[site])[instrument]

    response = as_role.get(change_url(instance))

    assert response.status_code == expected_page_status(role, site)


@roles
@matrix
def test_saving_a_line_changes_it_only_for_those_who_may_change_its_site(as_role, world, role, site):
    line = world.patients[site].treatment_lines.get()
    data = administrator_form_data(line)
    data["line_ecog"] = "2"

    response = as_role.post(change_url(line), data)

    assert response.status_code == expected_post_status(role, site)
    assert TreatmentLine.objects.get(pk=line.pk).line_ecog == (2 if site in CHANGES[role] else None)


@roles
@matrix
def test_adding_a_line_for_a_patient_is_possible_only_for_those_who_may_change_its_site(as_role, world, role, site):
    patient = world.patients[site]

    response = as_role.post(changelist_url(TreatmentLine) + "add/", {
        "patient": str(patient.pk), "line_no": "2", "line_type": "1", "line_drug": "7",
        "line_start": "2022-01-01", "treatment_line_complete": "0",
    })

    added = site in CHANGES[role]
    if added:
        assert response.status_code == 302
    elif role in WRITERS:
        # The patient is not among the choices of a coordinator of another site.
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {
            "patient": ["Select a valid choice. That choice is not one of the available choices."],
        }
    else:
        assert response.status_code == 403
    assert patient.treatment_lines.count() == (2 if added else 1)


# ------------------------------------------------------------------ history and audit trail


@roles
@matrix
def test_the_history_pages_of_a_patient_and_a_line_open_only_for_those_who_see_its_site(as_role, world, role, site):
    patient = world.patients[site]

    patient_history = as_role.get(change_url(patient).replace("/change/", "/history/"))
    line_history = as_role.get(change_url(patient.treatment_lines.get()).replace("/change/", "/history/"))

    expected = 200 if site in SEES[role] else 404
    assert (patient_history.status_code, line_history.status_code) == (expected, expected)


@roles
@matrix
def test_the_audit_trail_opens_only_for_those_who_see_the_patients_site(as_role, world, role, site):
    response = as_role.get(reverse("admin:registry_patient_audit_trail", args=[world.patients[site].pk]))

    assert response.status_code == (200 if site in SEES[role] else 404)


# ------------------------------------------------------------------ autocomplete


@roles
@matrix
def test_the_patient_autocomplete_offers_only_patients_the_user_may_change(as_role, world, role, site):
    response = as_role.get(reverse("admin:autocomplete"), {
        "app_label": "registry", "model_name": "treatmentline", "field_name": "patient", "term": f"P-{site}",
    })

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    offered = [result["text"] for result in response.json()["results"]]
    assert offered == ([f"P-{site}"] if site in CHANGES[role] else [])


# ------------------------------------------------------------------ files in and out


def exported_record_ids(response) -> list[str]:
    text = b"".join(response.streaming_content).decode()
    return [row["record_id"] for row in csv.DictReader(io.StringIO(text))]


@roles
@matrix
def test_the_redcap_export_holds_a_patient_only_for_those_who_see_its_site(as_role, world, role, site):
    response = as_role.get(reverse("admin:registry_patient_export_redcap"))

    if role not in IDENTIFIED:  # no role, or de-identified data only: the flat export is identified
        assert response.status_code == 403
        return
    assert (f"P-{site}" in exported_record_ids(response)) == (site in SEES[role])


@roles
@matrix
def test_the_variant_spreadsheet_export_holds_a_variant_only_for_those_who_see_its_site(as_role, world, role, site):
    model_admin = admin.site.get_model_admin(NgsVariant)
    data = {"format": str(model_admin.get_export_formats().index(SpreadsheetCSV)), "resource": "0",
            "ngsvariantresource_record_id": "on", "ngsvariantresource_var_gene": "on"}

    response = as_role.post(reverse("admin:registry_ngsvariant_export"), data)

    if role not in IDENTIFIED:  # no role, or de-identified data only: a spreadsheet holds real IDs and dates
        assert response.status_code == 403
        return
    records = [row["record_id"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]
    assert (f"P-{site}" in records) == (site in SEES[role])


@roles
@matrix
def test_the_redcap_import_page_opens_for_writers_and_offers_only_sites_they_may_change(as_role, world, role, site):
    response = as_role.get(reverse("admin:registry_patient_import_redcap"))

    if role not in WRITERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    offered = set(response.context["form"].fields["site"].queryset)
    assert (world.sites[site] in offered) == (site in CHANGES[role])
