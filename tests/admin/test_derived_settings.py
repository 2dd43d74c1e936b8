"""The analysis settings page: administrators change the one row through the service; others only read it."""
from datetime import date

import pytest
from django.urls import reverse

from registry.models import AnalysisSettings, PatientDerivation, Role
from tests import factories

from .admin_pages import change_url, changelist_url, delete_url, form_data_of
from .test_access_matrix import administrator_form_data
from .test_derived_patient_page import derive_patient


@pytest.fixture
def settings_row(db):
    return AnalysisSettings.objects.create(pk=1, data_cutoff=date(2023, 12, 31))


@pytest.fixture
def two_derived_patients(site_a, site_b):
    return [derive_patient(factories.make_patient(site)) for site in (site_a, site_b)]


def test_an_administrator_changing_the_cut_off_stores_it_and_marks_every_derivation_stale(
    client, settings_row, two_derived_patients,
):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    client.force_login(administrator)
    data = form_data_of(client.get(change_url(settings_row)))
    data["data_cutoff"] = "2024-06-30"

    response = client.post(change_url(settings_row), data)

    assert response.status_code == 302
    stored = AnalysisSettings.objects.get(pk=1)
    assert (stored.data_cutoff, stored.baseline_window_days) == (date(2024, 6, 30), 60)
    assert list(PatientDerivation.objects.values_list("is_stale", flat=True)) == [True, True]
    latest = stored.history.latest("history_date")
    assert (latest.data_cutoff, latest.history_user) == (date(2024, 6, 30), administrator)
    assert AnalysisSettings.objects.count() == 1


def test_a_coordinator_may_not_change_the_settings_and_nothing_changes(
    coordinator_client, settings_row, two_derived_patients,
):
    data = administrator_form_data(settings_row)
    data["data_cutoff"] = "2024-06-30"

    response = coordinator_client.post(change_url(settings_row), data)

    assert response.status_code == 403
    assert AnalysisSettings.objects.get(pk=1).data_cutoff == date(2023, 12, 31)
    assert list(PatientDerivation.objects.values_list("is_stale", flat=True)) == [False, False]
    assert settings_row.history.count() == 1


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.ADMINISTRATOR])
def test_reverting_the_settings_from_their_history_is_refused_to_everyone(
    client, settings_row, two_derived_patients, role,
):
    first_version = settings_row.history.get()
    AnalysisSettings.objects.filter(pk=1).update(data_cutoff=date(2024, 6, 30))
    client.force_login(factories.make_user(role=role))
    revert_url = reverse("admin:registry_analysissettings_simple_history", args=[1, first_version.history_id])
    # What the revert page would post: the first version's values.
    data = {**administrator_form_data(settings_row), "data_cutoff": "2023-12-31"}

    response = client.post(revert_url, data)

    assert response.status_code == 405  # history pages are read-only; administrators change settings on the change page
    assert AnalysisSettings.objects.get(pk=1).data_cutoff == date(2024, 6, 30)
    assert list(PatientDerivation.objects.values_list("is_stale", flat=True)) == [False, False]
    assert settings_row.history.count() == 1


def test_nobody_may_delete_the_settings_or_add_a_second_row(client, settings_row):
    client.force_login(factories.make_user(superuser=True))

    deleted = client.post(delete_url(settings_row), {"post": "yes"})
    added = client.post(changelist_url(AnalysisSettings) + "add/", {"data_cutoff": "2024-01-01"})

    assert (deleted.status_code, added.status_code) == (403, 403)
    assert list(AnalysisSettings.objects.values_list("pk", "data_cutoff")) == [(1, date(2023, 12, 31))]


def test_the_settings_history_page_opens_for_an_investigator(client, settings_row):
    client.force_login(factories.make_user(role=Role.INVESTIGATOR))

    response = client.get(change_url(settings_row).replace("/change/", "/history/"))

    assert response.status_code == 200
    assert [record.data_cutoff for record in response.context["page_obj"].object_list] == [date(2023, 12, 31)]


def test_an_administrator_changing_the_study_id_stores_it_and_marks_every_derivation_stale(
    client, settings_row, two_derived_patients,
):
    # Rules §0 (v2): study_id is a setting like the others; it is stored with every result (it is
    # written as STUDYID), so results derived with another one are stale.
    client.force_login(factories.make_user(role=Role.ADMINISTRATOR))
    data = form_data_of(client.get(change_url(settings_row)))
    assert data["study_id"] == "ALK-REGISTRY"  # the default
    data["study_id"] = "ALK-NSCLC-2024"

    response = client.post(change_url(settings_row), data)

    assert response.status_code == 302
    assert AnalysisSettings.objects.get(pk=1).study_id == "ALK-NSCLC-2024"
    assert list(PatientDerivation.objects.values_list("is_stale", flat=True)) == [True, True]


@pytest.mark.parametrize("study_id", ["", "ALK REGISTRY", "-ALK", "ALK/1", "A" * 41])
def test_a_study_id_that_cannot_make_a_usubjid_is_refused_and_nothing_changes(
    client, settings_row, two_derived_patients, study_id,
):
    # blank, a space, a leading hyphen, a slash, more than 40 characters
    client.force_login(factories.make_user(role=Role.ADMINISTRATOR))
    data = form_data_of(client.get(change_url(settings_row)))
    data["study_id"] = study_id

    response = client.post(change_url(settings_row), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["study_id"]
    assert AnalysisSettings.objects.get(pk=1).study_id == "ALK-REGISTRY"
    assert list(PatientDerivation.objects.values_list("is_stale", flat=True)) == [False, False]
    assert settings_row.history.count() == 1
