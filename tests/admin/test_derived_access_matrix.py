"""Who sees derived results, flags and analysis settings: the roles × sites A and B of test_access_matrix.

Derived results follow the patient's site like its records; analysis settings are one registry-wide
row that every role reads and only administrators change. Derived tables are changed by nobody.
"""
from datetime import date

import pytest
from django.contrib import admin

from registry.models import (
    AnalysisSettings, AssessmentDerivation, BiopsyDerivation, LineDerivation, Patient, PatientDerivation, Role,
)
from tests import factories

from .admin_pages import change_url, changelist_url
from tests.access_roles import ROLES, SEES, user_for, world  # noqa: F401 - world is a fixture

# as_role is a fixture: imported so pytest finds it in this module.
from .test_access_matrix import as_role, expected_page_status  # noqa: F401
from .test_derived_flags_page import FLAGS_URL
from .test_derived_patient_page import derive_patient, flag

matrix = pytest.mark.parametrize("site", ["A", "B"])
roles = pytest.mark.parametrize("role", ROLES)


@pytest.fixture
def flagged_world(world):
    for patient in world.patients.values():
        derive_patient(patient, cohort=1, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
    return world


@roles
@matrix
def test_the_flags_page_lists_a_patients_flags_only_to_those_who_see_its_site(as_role, flagged_world, role, site):
    response = as_role.get(FLAGS_URL)

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    listed = {row.record_id for row in response.context["page_obj"].object_list}
    assert (f"P-{site}" in listed) == (site in SEES[role])


@roles
@matrix
def test_the_derived_results_on_the_patient_page_show_only_to_those_who_see_its_site(
    as_role, flagged_world, role, site,
):
    response = as_role.get(change_url(flagged_world.patients[site]))

    assert response.status_code == expected_page_status(role, site)
    if response.status_code == 200:
        assert response.context["derived"].results[0] == ("cohort", "Cohort 1")


@roles
@matrix
def test_filtering_the_patient_list_by_cohort_lists_only_patients_the_user_may_see(
    as_role, flagged_world, role, site,
):
    response = as_role.get(changelist_url(Patient), {"cohort": "1"})

    if role == "no role":
        assert response.status_code == 403
        return
    listed = {patient.record_id for patient in response.context["cl"].result_list}
    assert (f"P-{site}" in listed) == (site in SEES[role])


# ------------------------------------------------------------------ analysis settings


@pytest.fixture
def settings_row(db):
    return AnalysisSettings.objects.create(pk=1, data_cutoff=date(2023, 12, 31))


@roles
def test_every_registry_role_may_read_the_analysis_settings_but_only_administrators_may_save_them(
    client, world, settings_row, role,
):
    user = user_for(role, world)
    client.force_login(user)

    response = client.get(change_url(settings_row))

    if role == "no role":
        assert response.status_code == 404  # nothing they may see: as if it did not exist
        return
    assert response.status_code == 200
    assert response.context["has_change_permission"] is (role == "administrator")
    assert (response.context["has_add_permission"], response.context["has_delete_permission"]) == (False, False)


@pytest.mark.parametrize("superuser", [False, True], ids=["administrator", "superuser"])
def test_nobody_may_add_change_or_delete_derived_rows_in_the_admin(rf, db, superuser):
    request = rf.get("/admin/")
    request.user = factories.make_user(role=None if superuser else Role.ADMINISTRATOR, superuser=superuser)

    editable = []
    for model in (PatientDerivation, LineDerivation, AssessmentDerivation, BiopsyDerivation):
        if not admin.site.is_registered(model):
            continue  # not in the admin at all: shown read-only on the patient page
        model_admin = admin.site.get_model_admin(model)
        if (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
                or model_admin.has_delete_permission(request)):
            editable.append(model.__name__)

    assert editable == []
