"""Filters of the patient list by derived results: they narrow the patients the user may see, nothing more."""
import pytest

from registry.models import Patient
from tests import factories

from .admin_pages import changelist_url
from .test_derived_patient_page import derive_line, derive_patient, flag


def listed(response) -> list[str]:
    return sorted(patient.record_id for patient in response.context["cl"].result_list)


@pytest.fixture
def derived_patients(site_a):
    """P-C1: cohort 1, oligo CNS progression on line 2, flagged, stale. P-C2: cohort 2, extensive progression
    without CNS. P-NONE: derived, no cohort, no progression. P-NEW: never derived."""
    first = factories.make_patient(site_a, "P-C1")
    derive_patient(first, cohort=1, is_stale=True, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
    derive_line(factories.make_line(first, line_no=1))
    derive_line(factories.make_line(first, line_no=2), extent="oligo", cns_progression=True)
    second = factories.make_patient(site_a, "P-C2")
    derive_patient(second, cohort=2)
    derive_line(factories.make_line(second), extent="extensive", cns_progression=False)
    derive_line(factories.make_line(second, line_no=2), extent="unknown", cns_progression=None)
    derive_patient(factories.make_patient(site_a, "P-NONE"))
    factories.make_patient(site_a, "P-NEW")


@pytest.mark.parametrize(("parameters", "expected"), [
    ({"cohort": "1"}, ["P-C1"]),
    ({"cohort": "2"}, ["P-C2"]),
    ({"cohort": "none"}, ["P-NONE"]),
    ({"extent": "oligo"}, ["P-C1"]),
    ({"extent": "extensive"}, ["P-C2"]),
    ({"extent": "unknown"}, ["P-C2"]),
    ({"cns_progression": "yes"}, ["P-C1"]),
    ({"cns_progression": "no"}, ["P-C2", "P-NONE"]),
    ({"flags": "yes"}, ["P-C1"]),
    ({"flags": "no"}, ["P-C2", "P-NONE"]),
    ({"derivation": "stale"}, ["P-C1"]),
    ({"derivation": "current"}, ["P-C2", "P-NONE"]),
    ({"derivation": "none"}, ["P-NEW"]),
    ({}, ["P-C1", "P-C2", "P-NEW", "P-NONE"]),
])
def test_a_derived_filter_lists_the_patients_it_names(coordinator_client, derived_patients, parameters, expected):
    response = coordinator_client.get(changelist_url(Patient), parameters)

    assert response.status_code == 200
    assert listed(response) == expected


def test_a_filter_on_progressions_keeps_each_patients_count_of_lines(coordinator_client, site_a):
    patient = factories.make_patient(site_a, "P-TWICE")
    derive_patient(patient)
    for line_no in (1, 2):
        derive_line(factories.make_line(patient, line_no=line_no), extent="oligo")

    response = coordinator_client.get(changelist_url(Patient), {"extent": "oligo"})

    # Two lines, each with an oligo-progression: a join would have counted each line twice.
    assert [(patient.record_id, patient.line_count) for patient in response.context["cl"].result_list] == [
        ("P-TWICE", 2),
    ]


def test_a_derived_filter_never_lists_another_sites_patients(coordinator_client, derived_patients, site_b):
    other = factories.make_patient(site_b, "P-B")
    derive_patient(other, cohort=1, is_stale=True, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
    derive_line(factories.make_line(other), extent="oligo", cns_progression=True)

    responses = [
        coordinator_client.get(changelist_url(Patient), parameters)
        for parameters in ({"cohort": "1"}, {"extent": "oligo"}, {"cns_progression": "yes"}, {"flags": "yes"},
                           {"derivation": "stale"})
    ]

    assert [listed(response) for response in responses] == [["P-C1"]] * 5


# The same ten queries as the unfiltered list (tests/admin/test_changelists.py): the derived filters
# offer fixed choices and add subqueries or joins to the page's own queries, never a query of their own.
@pytest.mark.parametrize("patients", [1, 10])
def test_the_patient_list_filtered_by_every_derived_filter_takes_ten_queries(
    client, django_assert_num_queries, coordinator_a, site_a, patients,
):
    for _ in range(patients):
        patient = factories.make_full_patient(site_a)
        derive_patient(patient, cohort=1, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
        derive_line(patient.treatment_lines.get(), extent="oligo", cns_progression=True)
    client.force_login(coordinator_a)

    with django_assert_num_queries(10):
        response = client.get(changelist_url(Patient), {
            "cohort": "1", "extent": "oligo", "cns_progression": "yes", "flags": "yes", "derivation": "current",
        })

    assert response.context["cl"].result_count == patients
