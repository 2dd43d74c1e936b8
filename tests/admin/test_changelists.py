"""Changelists: search, site filter, vital-status filter, and a fixed number of queries per page."""
import pytest

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, Role, Site, TreatmentLine, TumorAssessment,
)
from tests import factories

from .admin_pages import changelist_url

INSTRUMENT_MODELS = [TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant]

# Every changelist page, whatever the number of rows (up to a page), asks the database:
#  1. the session, 2. the logged-in user,
#  3. the user's registry role, 4. the user's site memberships (access_for, once per request),
#  5. the sites the user may see, for the site filter,
#  6. the count of filtered rows, 7. the count of all rows the user may see,
#  8. and 9. the user's and groups' Django permissions, read once for the sidebar's "Users" entry,
# 10. the page of rows, with patient and site joined (list_select_related) and, for patients, the
#     number of lines counted in the same query.
# The site changelist has no site filter, so no query 5.
QUERIES_PER_PAGE = {**{model: 10 for model in [Patient, *INSTRUMENT_MODELS]}, Site: 9}


@pytest.mark.parametrize("patients", [1, 20])
@pytest.mark.parametrize("model", [Patient, *INSTRUMENT_MODELS, Site], ids=lambda model: model.__name__)
def test_a_changelist_takes_the_same_number_of_queries_for_one_patient_and_for_twenty(
    client, django_assert_num_queries, coordinator_a, site_a, model, patients,
):
    for _ in range(patients):
        factories.make_full_patient(site_a)
    client.force_login(coordinator_a)

    with django_assert_num_queries(QUERIES_PER_PAGE[model]):
        response = client.get(changelist_url(model))

    assert response.status_code == 200
    expected_rows = 1 if model is Site else patients
    assert response.context["cl"].result_count == expected_rows


def test_the_patient_list_shows_record_site_sex_diagnosis_date_vital_status_and_number_of_lines(
    coordinator_client, site_a,
):
    patient = factories.make_full_patient(site_a, "P-LIST")
    factories.make_line(patient, line_no=2)

    response = coordinator_client.get(changelist_url(Patient))

    cells = response.content.decode()
    assert [str(column) for column in response.context["cl"].list_display] == [
        "record_id", "site_code", "sex", "adv_dx_date", "vital", "line_count",
    ]
    assert response.context["cl"].result_list[0].line_count == 2
    assert '<td class="field-line_count">2</td>' in cells
    assert '<td class="field-vital">Alive</td>' in cells


def test_the_site_filter_offers_only_the_sites_the_user_may_see(client, site_a, site_b):
    factories.make_site("site-c")
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    client.force_login(coordinator)

    response = client.get(changelist_url(TreatmentLine))

    site_filter = response.context["cl"].filter_specs[0]
    assert site_filter.lookup_choices == [(str(site_a.id), "site-a"), (str(site_b.id), "site-b")]


def test_filtering_by_site_lists_only_that_sites_patients(client, site_a, site_b):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    factories.make_full_patient(site_a, "P-A")
    factories.make_full_patient(site_b, "P-B")
    client.force_login(coordinator)

    patients = client.get(changelist_url(Patient), {"site": site_b.id})
    variants = client.get(changelist_url(NgsVariant), {"site": site_b.id})

    assert [p.record_id for p in patients.context["cl"].result_list] == ["P-B"]
    assert [v.patient.record_id for v in variants.context["cl"].result_list] == ["P-B"]


def test_searching_an_instrument_by_record_id_lists_that_patients_instances(coordinator_client, site_a):
    factories.make_full_patient(site_a, "P-0100")
    factories.make_full_patient(site_a, "P-0200")

    response = coordinator_client.get(changelist_url(TreatmentLine), {"q": "P-0200"})

    assert [line.patient.record_id for line in response.context["cl"].result_list] == ["P-0200"]


def test_filtering_patients_by_vital_status(coordinator_client, site_a):
    factories.make_patient(site_a, "P-ALIVE", vital=1)
    factories.make_patient(site_a, "P-DEAD", vital=2)

    response = coordinator_client.get(changelist_url(Patient), {"vital__exact": 2})

    assert [p.record_id for p in response.context["cl"].result_list] == ["P-DEAD"]
