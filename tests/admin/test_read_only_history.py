"""History pages show the past and never write, for anyone; a site's row is changed by administrators
only; another site's history answers 404. The attacks the hardening issue reports, one by one."""
import pytest
from django.test import Client
from django.urls import reverse

from registry.models import Role, Site, TreatmentLine
from tests import factories

from .admin_pages import change_url, form_data_of


def history_version_url(obj) -> str:
    version = obj.history.order_by("-history_id").first()
    return reverse(f"admin:registry_{obj._meta.model_name}_simple_history", args=[obj.pk, version.history_id])


def history_url(obj) -> str:
    return change_url(obj).replace("/change/", "/history/")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def version_form_data(obj) -> dict:
    """What the version's page would post back: its values as a superuser's browser sends them."""
    return form_data_of(client_of(factories.make_user(superuser=True)).get(history_version_url(obj)))


@pytest.fixture
def line_a(site_a):
    return factories.make_line(factories.make_patient(site_a, "P-A"))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, Role.COORDINATOR, Role.ADMINISTRATOR])
def test_posting_a_treatment_lines_history_version_changes_nothing_for_any_role(site_a, line_a, role):
    data = {**version_form_data(line_a), "line_ecog": "3"}
    histories = line_a.history.count()
    member_of = [site_a] if role in (Role.VIEWER, Role.COORDINATOR) else []
    client = client_of(factories.make_user(role=role, sites=member_of))

    response = client.post(history_version_url(line_a), data)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert TreatmentLine.objects.get(pk=line_a.pk).line_ecog is None
    assert line_a.history.count() == histories


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.COORDINATOR])
def test_nobody_renames_a_site_through_its_history_version_page(site_a, role):
    data = {**version_form_data(site_a), "code": "renamed"}
    client = client_of(factories.make_user(role=role, sites=[site_a] if role == Role.COORDINATOR else []))

    response = client.post(history_version_url(site_a), data)

    assert response.status_code == 405
    assert Site.objects.get(pk=site_a.pk).code == "site-a"
    assert site_a.history.count() == 1


def test_a_coordinator_may_read_but_not_rename_their_own_site(site_a):
    client = client_of(factories.make_user(role=Role.COORDINATOR, sites=[site_a]))

    page = client.get(change_url(site_a))
    response = client.post(change_url(site_a), {"code": "renamed", "name": "Hospital A"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    assert Site.objects.get(pk=site_a.pk).code == "site-a"
    assert site_a.history.count() == 1


def test_posting_to_the_history_list_changes_nothing(site_a, line_a):
    client = client_of(factories.make_user(role=Role.ADMINISTRATOR))

    response = client.post(history_url(line_a), {"line_ecog": "3"})

    assert response.status_code == 405
    assert line_a.history.count() == 1


def test_a_history_version_page_shows_the_values_without_a_save_button(site_a, line_a):
    client = client_of(factories.make_user(superuser=True))

    response = client.get(history_version_url(line_a))

    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert b"Revert" not in response.content
    form = response.context["adminform"].form
    assert [name for name, field in form.fields.items() if not field.disabled] == []


def test_the_history_of_another_sites_patient_answers_404_as_a_patient_that_does_not_exist(site_a, site_b):
    patient_b = factories.make_patient(site_b, "P-B")
    client = client_of(factories.make_user(role=Role.COORDINATOR, sites=[site_a]))
    missing = history_url(patient_b).replace(f"/{patient_b.pk}/", "/987654321/")

    unseen, nonexistent = client.get(history_url(patient_b)), client.get(missing)

    assert unseen.status_code == 404
    assert (unseen.status_code, unseen.content) == (nonexistent.status_code, nonexistent.content)


def test_an_administrator_still_reads_the_history_of_a_deleted_line(site_a, line_a):
    client = client_of(factories.make_user(role=Role.ADMINISTRATOR))
    line_id = line_a.pk
    line_a.delete()

    response = client.get(reverse("admin:registry_treatmentline_history", args=[line_id]))

    assert response.status_code == 200
    assert [record.history_type for record in response.context["page_obj"].object_list] == ["-", "+"]


def test_every_registered_admin_answers_unseen_as_missing_refuses_nul_and_keeps_history_read_only():
    from django.contrib import admin
    from simple_history.admin import SimpleHistoryAdmin

    from registry.admin.mixins import NulParametersRefusedMixin, ReadOnlyHistoryMixin, UnseenIsMissingMixin

    registered = list(admin.site._registry.values())
    writable_history = [
        type(model_admin).__name__ for model_admin in registered
        if isinstance(model_admin, SimpleHistoryAdmin) and not isinstance(model_admin, ReadOnlyHistoryMixin)
    ]
    answering_unseen_otherwise = [type(model_admin).__name__ for model_admin in registered
                                  if not isinstance(model_admin, UnseenIsMissingMixin)]
    passing_nul_to_the_database = [type(model_admin).__name__ for model_admin in registered
                                   if not isinstance(model_admin, NulParametersRefusedMixin)]

    assert (writable_history, answering_unseen_otherwise, passing_nul_to_the_database) == ([], [], [])
