"""The site-wide "Data-quality flags" page: every flag of the patients the user may see."""
import pytest
from django.urls import reverse

from registry.models import Patient, Role, TumorAssessment
from tests import factories

from .admin_pages import change_url, changelist_url
from .test_derived_patient_page import derive_patient, flag

FLAGS_URL = reverse("admin:registry_patient_data_quality")


def flagged_patient(site, record_id: str, *flags) -> Patient:
    patient = factories.make_patient(site, record_id)
    derive_patient(patient, flags=list(flags))
    return patient


def listed(response) -> list[tuple[str, str]]:
    return [(row.record_id, row.code) for row in response.context["page_obj"].object_list]


def test_the_flags_page_lists_every_flag_of_the_coordinators_patients_with_where_to_correct_it(
    coordinator_client, site_a,
):
    patient = flagged_patient(
        site_a, "P-A1",
        flag("assessments_same_date", "tumor_assessment", "2021-02-03", "Two tumour assessments are dated 2021-02-03."),
        flag("death_date_without_dead", "vital_status", "vital_status"),
    )
    flagged_patient(site_a, "P-A2")  # derived without flags: not listed

    response = coordinator_client.get(FLAGS_URL)

    assert response.status_code == 200
    assert [(row.site_code, row.record_id, row.instrument, row.record, row.message, row.correct_url)
            for row in response.context["page_obj"].object_list] == [
        ("site-a", "P-A1", "tumor assessment", "2021-02-03", "Two tumour assessments are dated 2021-02-03.",
         f"{changelist_url(TumorAssessment)}?patient__id__exact={patient.pk}"),
        ("site-a", "P-A1", "Vital status", "vital_status", "Something to correct.",
         f"{change_url(patient)}#fieldset-0-3-heading"),
    ]
    assert f'href="{change_url(patient)}">P-A1</a>' in response.content.decode()


def test_a_coordinator_of_site_a_never_sees_site_bs_flags(coordinator_client, site_a, site_b):
    flagged_patient(site_a, "P-A", flag("lines_same_start", "treatment_line", "2020-03-10"))
    flagged_patient(site_b, "P-B", flag("lines_same_start", "treatment_line", "2020-03-10"))

    response = coordinator_client.get(FLAGS_URL)

    assert listed(response) == [("P-A", "lines_same_start")]


def test_naming_another_sites_id_in_the_url_lists_nothing(coordinator_client, site_a, site_b):
    flagged_patient(site_a, "P-A", flag("lines_same_start", "treatment_line", "2020-03-10"))
    flagged_patient(site_b, "P-B", flag("lines_same_start", "treatment_line", "2020-03-10"))

    response = coordinator_client.get(FLAGS_URL, {"site": site_b.id})

    assert listed(response) == []


def test_the_site_filter_offers_only_the_sites_the_user_may_see(client, site_a, site_b):
    factories.make_site("site-c")
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    client.force_login(coordinator)

    response = client.get(FLAGS_URL)

    assert [choice.label for choice in response.context["site_choices"]] == ["All", "site-a", "site-b"]


def test_filtering_by_site_lists_only_that_sites_flags(client, site_a, site_b):
    flagged_patient(site_a, "P-A", flag("lines_same_start", "treatment_line", "2020-03-10"))
    flagged_patient(site_b, "P-B", flag("lines_same_start", "treatment_line", "2020-03-10"))
    client.force_login(factories.make_user(role=Role.INVESTIGATOR))

    response = client.get(FLAGS_URL, {"site": site_b.id})

    assert listed(response) == [("P-B", "lines_same_start")]


def test_filtering_by_flag_lists_only_that_flag_also_of_patients_with_several(coordinator_client, site_a):
    flagged_patient(
        site_a, "P-1",
        flag("lines_same_start", "treatment_line", "2020-03-10"),
        flag("response_discrepancy", "tumor_assessment", "2020-06-01"),
    )
    flagged_patient(site_a, "P-2", flag("lines_same_start", "treatment_line", "2020-03-10"))

    response = coordinator_client.get(FLAGS_URL, {"code": "response_discrepancy"})

    assert listed(response) == [("P-1", "response_discrepancy")]


def test_a_user_without_a_registry_role_may_not_open_the_flags_page(client, db):
    client.force_login(factories.make_user())

    response = client.get(FLAGS_URL)

    assert response.status_code == 403


def test_the_patient_list_links_to_the_flags_page(coordinator_client, site_a):
    response = coordinator_client.get(changelist_url(Patient))

    assert f'<a href="{FLAGS_URL}">Data-quality flags</a>' in response.content.decode()


# The flags page asks, whatever the number of flagged patients:
#  1. the session, 2. the user, 3. and 4. the user's role and sites (access_for),
#  5. the sites the user may see, for the site filter,
#  6. the derivations with flags, with their patients and sites joined,
#  7. and 8. the user's and groups' Django permissions (sidebar).
FLAGS_PAGE_QUERIES = 8


@pytest.mark.parametrize("patients", [1, 10])
def test_the_flags_page_takes_the_same_number_of_queries_for_one_patient_and_for_ten(
    client, django_assert_num_queries, coordinator_a, site_a, patients,
):
    for number in range(patients):
        flagged_patient(site_a, f"P-{number:02d}", flag("lines_same_start", "treatment_line", "2020-03-10"),
                        flag("dead_without_death_date", "vital_status", "vital_status"))
    client.force_login(coordinator_a)

    with django_assert_num_queries(FLAGS_PAGE_QUERIES):
        response = client.get(FLAGS_URL)

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 2 * patients
