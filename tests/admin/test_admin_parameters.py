"""No admin page answers 500 to a query parameter: every list filter, ordering, page and search of
every changelist, and the parameters of the custom pages, with values nobody offered."""
import pytest
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.test import Client, RequestFactory
from django.urls import reverse

from registry.models import Patient, Role
from tests import factories

from .admin_urls import admin_urls

# Not a number, a number too large for any integer column, a negative one, a NUL character (which
# PostgreSQL refuses in text), text outside the Basic Multilingual Plane.
BAD_VALUES = ["abc", "99999999999999999999", "-1", "x\x00y", "😀"]
# Parameters every changelist reads besides its filters: ordering, page, search.
CHANGELIST_PARAMETERS = ["o", "p", "q"]
# The parameters each custom page reads (a page added later is listed in admin_urls.KINDS first).
PAGE_PARAMETERS = {
    "data_quality": ["site", "code", "page"],
    "study_report": ["format", "figure"],
    "audit_trail": ["page"],
    "history": ["p"],
}
# Pages that apply the changelist's filters to what they export.
FILTERED_EXPORT_KINDS = {"export_redcap", "spreadsheet_export"}


def filter_parameters(model_admin, user) -> list[str]:
    """The query parameters of every list filter the changelist shows `user`."""
    changelist = model_admin.get_changelist_instance(_request_of(user))
    return [name for spec in changelist.filter_specs for name in spec.expected_parameters()]


@pytest.fixture
def users(site_a, site_b):
    factories.make_full_patient(site_a, "P-A")
    factories.make_full_patient(site_b, "P-B")
    return {
        "superuser": factories.make_user("superuser", superuser=True),
        "coordinator of A": factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a]),
    }


def answers_to_bad_values(client, address: str, names: list[str], values=BAD_VALUES) -> list[tuple]:
    """(parameter, value, status) of every answer that is a server error or an unexplained redirect."""
    wrong = []
    for name in names:
        for value in values:
            response = client.get(address, {name: value})
            redirect_to_error_flag = response.status_code == 302 and response["Location"].endswith(f"?{ERROR_FLAG}=1")
            if response.status_code not in (200, 400) and not redirect_to_error_flag:
                wrong.append((address, name, value, response.status_code))
    return wrong


def test_no_changelist_or_admin_page_answers_a_bad_query_parameter_with_a_server_error(users):
    user = users["superuser"]  # who sees every changelist and every filter
    client = Client()
    client.force_login(user)
    patient = Patient.objects.get(record_id="P-A")
    wrong, walked = [], 0
    for url in admin_urls():
        if url.kind == "changelist":
            names = [*filter_parameters(url.model_admin, user), *CHANGELIST_PARAMETERS]
            wrong += answers_to_bad_values(client, reverse(f"admin:{url.name}"), names)
            walked += 1
        elif url.kind in FILTERED_EXPORT_KINDS:
            # The same filters as the changelist's, so one bad value each is enough (an export costs more).
            names = filter_parameters(url.model_admin, user)
            wrong += answers_to_bad_values(client, reverse(f"admin:{url.name}"), names, values=BAD_VALUES[:1])
            walked += 1
        elif url.kind in PAGE_PARAMETERS and url.model is Patient:
            args = [] if url.kind in ("data_quality", "study_report") else [patient.pk]
            # The study report draws its figures for any format but json and html: one value is enough.
            values = BAD_VALUES[:1] if url.kind == "study_report" else BAD_VALUES
            wrong += answers_to_bad_values(
                client, reverse(f"admin:{url.name}", args=args), PAGE_PARAMETERS[url.kind], values=values)
            walked += 1

    assert wrong == []
    # 27 changelists (17 of the registry and auth, the identified-export log, the soft-check confirmations,
    # the record locks, the record signatures, the queries, the custom data-quality rules,
    # 3 of django-axes, 1 of django-otp), 3 filtered exports, 4 of the patient's pages with parameters,
    # 1 of the data cuts
    assert walked == 27 + 3 + 4 + 1


def _request_of(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_a_site_filter_that_is_not_a_number_sends_the_list_back_to_the_error_flag(users):
    client = Client()
    client.force_login(users["coordinator of A"])

    response = client.get(reverse("admin:registry_patient_changelist"), {"site": "abc"})

    assert (response.status_code, response["Location"]) == (302, f"/admin/registry/patient/?{ERROR_FLAG}=1")


@pytest.mark.parametrize("site", ["B", "99999999999999999999"])
def test_another_sites_id_and_an_id_too_large_for_the_database_both_list_nothing(users, site_b, site):
    client = Client()
    client.force_login(users["coordinator of A"])
    value = str(site_b.pk) if site == "B" else site

    response = client.get(reverse("admin:registry_patient_changelist"), {"site": value})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("parameter", ["cohort", "extent", "cns_progression", "flags", "derivation"])
def test_a_derived_filter_value_it_does_not_offer_is_refused_not_ignored(users, parameter):
    from registry.admin.derived import DERIVED_LIST_FILTERS

    by_parameter = {list_filter.parameter_name: list_filter for list_filter in DERIVED_LIST_FILTERS}
    list_filter = by_parameter[parameter](_request_of(users["superuser"]), {parameter: ["maybe"]}, Patient, None)

    with pytest.raises(IncorrectLookupParameters):
        list_filter.queryset(_request_of(users["superuser"]), Patient.objects.all())


@pytest.mark.parametrize("parameter", ["q", "status"])
def test_a_nul_character_in_a_list_parameter_is_a_bad_request_on_every_database(users, parameter):
    client = Client()
    client.force_login(users["superuser"])

    response = client.get(reverse("admin:registry_exportjob_changelist"), {parameter: "x\x00y"})

    assert response.status_code == 400
