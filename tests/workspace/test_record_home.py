"""The record home page: header, timeline, form status grid, stored and live results, access."""
import re
from datetime import date

import pytest
from django.urls import reverse

from registry.models import Role
from registry.services.derivation import patients_derive, patients_mark_stale
from tests import factories
from tests.access_roles import user_for

from .record_cases import analysis_cutoff, progression_after_cutoff


def page(client, user, record_id):
    client.force_login(user)
    return client.get(reverse("workspace:record", args=[record_id]))


def section(html: str, element_id: str) -> str:
    """The HTML of the <section> with this id (sections of the results do not nest)."""
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


def text(html: str) -> str:
    """The words of `html` as a reader sees them: tags gone, spaces collapsed, none before a comma."""
    return re.sub(r" ,", ",", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.django_db
def test_the_header_shows_record_site_age_at_death_cohort_current_line_vital_status_and_last_scan(
        client, site_a, coordinator_a):
    analysis_cutoff()
    # Born 1960-05-01, died 2024-02-01: 63 completed years at death (the birthday of 2024 not reached).
    patient = factories.make_patient(site_a, "P-H", birth_date=date(1960, 5, 1), vital=2,
                                     death_date=date(2024, 2, 1))
    factories.make_line(patient, 1, line_start=date(2020, 3, 10), line_end=date(2022, 1, 5))
    factories.make_line(patient, 2, line_drug=7, line_start=date(2022, 1, 6))
    factories.make_assessment(patient, date(2023, 11, 2))
    factories.make_assessment(patient, date(2022, 1, 3))

    body = text(page(client, coordinator_a, "P-H").content.decode())

    assert "Site site-a — Hospital A" in body
    assert "Age 63 at death" in body
    assert "Current line Line 2: Lorlatinib since 2022-01-06" in body
    assert "Vital status Dead, died 2024-02-01" in body
    assert "Last scan 2023-11-02" in body
    assert "Cohort no cohort (live view; not derived yet)" in body


@pytest.mark.django_db
def test_stored_results_stop_at_the_cutoff_and_the_live_view_shows_the_later_progression(
        client, site_a, coordinator_a):
    analysis_cutoff()  # 2023-06-30
    patient = progression_after_cutoff(site_a)
    patients_derive(patient_ids=[patient.pk])

    html = page(client, coordinator_a, "P-LATE").content.decode()
    stored, live = text(section(html, "stored-results")), text(section(html, "live-view"))

    assert "As of the analysis cut-off 2023-06-30" in stored
    assert "Live view (today, " in live and "not stored" in live
    # Stored: the 2023-09-01 scan is after the cut-off. 40 → 26 mm is -35 % (≤ -30 %: PR, RECIST 1.1), no
    # progression; PFS censored at the last adequate assessment 2023-04-05: 2023-01-10 is day 10 of the year,
    # 2023-04-05 day 95, so 85 days, 85 / 30.4375 = 2.79 → 2.8 months.
    assert "PR" in stored
    assert "no progression" in stored
    assert "2.8 months (85 days), censored at the cut-off" in stored
    assert "CNS progression" not in stored
    # Live (today as the cut-off): the new brain lesion on 2023-09-01 is PD (RECIST 1.1 §4.3.1: an
    # unequivocal new lesion), so the progression is dated 2023-09-01, a CNS one (brain). PFS is an event
    # at the PD date: 2023-09-01 is day 244 of 2023, the start day 10, so 234 days; 234 / 30.4375 = 7.69
    # → 7.7 months. The best response up to the progression is still the PR.
    assert "2023-09-01" in live
    assert "CNS progression" in live
    assert "7.7 months (234 days), event: progression" in live
    assert "PR" in live


@pytest.mark.django_db
def test_a_record_never_derived_says_so_and_a_stale_one_says_it_is_being_derived_again(
        client, site_a, coordinator_a):
    analysis_cutoff()
    patient = progression_after_cutoff(site_a)

    assert "Not derived yet" in text(section(page(client, coordinator_a, "P-LATE").content.decode(),
                                             "stored-results"))

    patients_derive(patient_ids=[patient.pk])
    patients_mark_stale(patient_ids=[patient.pk])

    assert "Stale, being derived again" in text(section(page(client, coordinator_a, "P-LATE").content.decode(),
                                                        "stored-results"))


@pytest.mark.django_db
def test_the_timeline_draws_one_bar_per_line_and_one_mark_per_scan_coloured_by_its_response(
        client, site_a, coordinator_a):
    analysis_cutoff()
    progression_after_cutoff(site_a)
    factories.make_line(factories.make_patient(site_a, "P-OTHER"), 1)  # another record: not drawn

    html = page(client, coordinator_a, "P-LATE").content.decode()
    svg = html[html.index("<svg class=\"timeline\""):html.index("</svg>")]

    assert svg.count('<g class="tl-line') == 1
    assert len(re.findall(r'data-kind="scan"', svg)) == 3
    # Baseline (no response of its line), then PR (green class), then PD (red class), in date order.
    scans = re.findall(r'class="tl-mark tl-scan (tl-resp-\w+)"', svg)
    assert scans == ["tl-resp-none", "tl-resp-pr", "tl-resp-pd"]
    assert 'data-kind="progression"' in svg
    assert "Progression on line 1 (Alectinib): 2023-09-01" in svg
    assert 'role="img"' in svg and 'aria-label="Timeline of P-LATE from 2022-12-20' in svg
    assert "style=" not in html


@pytest.mark.django_db
def test_the_status_grid_links_every_instance_to_its_page_with_its_status_and_a_delete_link(
        client, site_a, coordinator_a):
    analysis_cutoff()
    patient = factories.make_full_patient(site_a, "P-G")
    patient.enrollment_complete = 2
    patient.save()

    html = page(client, coordinator_a, "P-G").content.decode()
    grid = html[html.index('class="data status-grid"'):]

    assert 'href="/records/P-G/enrollment/"' in grid  # non-repeating forms: their record form
    assert 'href="/records/P-G/vital_status/"' in grid
    assert 'href="/records/P-G/treatment_line/1/"' in grid
    assert 'href="/records/P-G/scans/1/"' in grid  # scans: the scan page
    assert 'href="/records/P-G/lesion/1/"' in grid
    assert 'href="/records/P-G/biopsy/1/"' in grid
    assert 'href="/records/P-G/ngs_variant/1/"' in grid
    assert 'href="/records/P-G/local_therapy/1/"' in grid
    assert "1 lesion measurement (1 Incomplete)" in text(grid)
    assert 'href="/records/P-G/tumor_assessment/1/delete/"' in grid
    assert 'href="/records/P-G/enrollment/1/delete/"' not in grid
    assert '<span class="status status-2">Complete</span>' in grid


@pytest.mark.django_db
@pytest.mark.parametrize("role, status, actions", [
    ("coordinator of A", 200, True),
    ("administrator", 200, True),
    ("viewer of A", 200, False),
    ("investigator", 200, False),
    ("no role", 404, False),
])
def test_who_sees_the_page_and_who_gets_its_actions(client, site_a, site_b, role, status, actions):
    analysis_cutoff()
    world = type("World", (), {"sites": {"A": site_a, "B": site_b}})
    factories.make_full_patient(site_a, "P-A")

    response = page(client, user_for(role, world), "P-A")

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert ("Add a scan" in html) is actions
        assert ("/delete/" in html) is actions
        assert ("Edit enrolment" in html) is actions


@pytest.mark.django_db
def test_a_coordinator_of_another_site_gets_404_as_for_an_unknown_record(client, site_a, site_b):
    factories.make_full_patient(site_b, "P-B")
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a])

    assert page(client, coordinator, "P-B").status_code == 404
    assert page(client, coordinator, "NO-SUCH").status_code == 404


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, site_a):
    factories.make_full_patient(site_a, "P-A")

    response = client.get(reverse("workspace:record", args=["P-A"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))


@pytest.mark.django_db
def test_identifier_fields_are_hidden_without_the_identified_grant_but_the_age_is_shown(
        client, site_a, coordinator_a):
    analysis_cutoff()
    factories.make_patient(site_a, "P-I", mrn="MRN-778899", birth_date=date(1960, 5, 1), vital=2,
                           death_date=date(2024, 2, 1))
    viewer = factories.make_user(role=Role.VIEWER, sites=[site_a])

    hidden = page(client, viewer, "P-I").content.decode()
    shown = page(client, coordinator_a, "P-I").content.decode()

    assert "MRN-778899" not in hidden and "1960-05-01" not in hidden
    assert "63 at death" in text(hidden)
    assert "MRN-778899" in shown and "1960-05-01" in shown


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_with_one_or_five_lines_and_scans(
        client, site_a, coordinator_a, django_assert_num_queries):
    analysis_cutoff()
    small = factories.make_patient(site_a, "P-1L")
    factories.make_line(small, 1)
    factories.make_assessment(small, date(2020, 3, 4))
    large = factories.make_patient(site_a, "P-5L")
    lesion = factories.make_lesion(large)
    biopsy = factories.make_biopsy(large)
    factories.make_variant(biopsy)
    for number in range(1, 6):
        factories.make_line(large, number, line_start=date(2020 + number, 3, 10))
        assessment = factories.make_assessment(large, date(2020 + number, 3, 4))
        factories.make_measurement(assessment, lesion)
    patients_derive(patient_ids=[small.pk, large.pk])
    client.force_login(coordinator_a)

    # 1 session, 2 user, 3 role, 4 site memberships (access_for, once per request);
    # the selector (registry/selectors/record_home.py): 5 patient with site, 6 record version,
    # 7-13 lines, local therapy, scans, lesions, measurements, biopsies, NGS variants,
    # 14-15 stored patient and line results, 16 analysis settings,
    # 17-22 the live view's input (patient_records: patients, lines, local therapy, assessments,
    # lesions with measurements, biopsies with variants);
    # 23 the locks in force of the record, 24 its signatures (none: the record's content is not read),
    # 25 the record's queries with their openers.
    for record_id in ("P-1L", "P-5L"):
        with django_assert_num_queries(25):
            response = client.get(reverse("workspace:record", args=[record_id]))
        assert response.status_code == 200
