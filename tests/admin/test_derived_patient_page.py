"""The patient page shows what was derived (read-only) and the patient's data-quality flags.

Derivation rows are written by hand here: these tests check what the admin shows, not the rules.
"""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from registry.admin.derived import LineSummary
from registry.models import (
    AssessmentDerivation, BiopsyDerivation, LineDerivation, Patient, PatientDerivation, TreatmentLine,
)
from tests import factories

from .admin_pages import change_url, changelist_url

DERIVED_AT = datetime(2024, 2, 1, 9, 30, tzinfo=timezone.utc)


def derive_patient(patient, **values) -> PatientDerivation:
    """A stored patient derivation with the given values (and its flag columns kept consistent)."""
    flags = values.pop("flags", [])
    defaults = {"rules_version": 1, "settings_snapshot": {}, "data_cutoff": date(2024, 1, 31),
                "derived_at": DERIVED_AT}
    return PatientDerivation.objects.create(
        patient=patient, flags=flags, flag_count=len(flags),
        flag_codes="".join(f";{flag['code']}" for flag in flags) + (";" if flags else ""),
        **{**defaults, **values},
    )


def derive_line(line: TreatmentLine, **values) -> LineDerivation:
    return LineDerivation.objects.create(patient=line.patient, line=line, line_no=line.line_no, **values)


def derive_assessment(line: TreatmentLine, ta_date: date, overall_response: str, source: str = "derived"):
    assessment = factories.make_assessment(line.patient, ta_date=ta_date)
    return AssessmentDerivation.objects.create(
        patient=line.patient, assessment=assessment, line=line, line_no=line.line_no, ta_date=ta_date,
        overall_response=overall_response, response_source=source,
    )


def flag(code: str, form: str, instance: str, message: str = "Something to correct.") -> dict:
    return {"code": code, "message": message, "form": form, "instance": instance}


def a_progressed_line(patient, line_no: int = 1, line_start: date = date(2020, 3, 10)) -> TreatmentLine:
    """An alectinib line with PR, SD then PD, oligo-progression in the brain, and PFS to that PD."""
    line = factories.make_line(patient, line_no=line_no, line_start=line_start)
    derive_assessment(line, date(line_start.year, 6, 8), "PR")
    derive_assessment(line, date(line_start.year, 9, 1), "SD", source="reported")
    derive_assessment(line, date(line_start.year + 1, 12, 20), "PD")
    derive_line(
        line, baseline_date=date(line_start.year, 3, 4), best_response="PR",
        pd_date=date(line_start.year + 1, 12, 20), extent="oligo", n_progressing_lesions=2, involved_sites="3",
        cns_progression=True, cns_only_progression=True, symptomatic_progression=False,
        symptomatic_cns_progression=None, local_therapy_for_pd=True, continued_beyond_pd=True, beyond_pd_days=45,
        pfs_date=date(line_start.year + 1, 12, 20), pfs_days=650, pfs_months=Decimal("21.355236"), pfs_event=True,
        pfs_event_type="progression", os_date=date(2024, 1, 31), os_days=1422, os_months=Decimal("46.718686"),
        os_event=False, os_censor_reason="cutoff",
    )
    return line


def test_the_patient_page_shows_a_lines_response_timeline_progression_labels_and_pfs(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    a_progressed_line(patient)
    derive_patient(patient, cohort=1, tki_sequence="alectinib", index_line_no=1, index_pd_date=date(2021, 12, 20),
                   alk_mut_status_at_index="not_assessed")

    response = coordinator_client.get(change_url(patient))

    assert response.status_code == 200
    assert response.context["derived"].lines == (LineSummary(
        line="Line 1: Alectinib",
        timeline="2020-06-08 PR (derived) · 2020-09-01 SD (reported) · 2021-12-20 PD (derived)",
        baseline_date="2020-03-04",
        best_response="PR",
        progression="2021-12-20",
        labels=(
            ("extent", "oligo"), ("progressing lesions", "2"), ("CNS", "yes"), ("CNS only", "yes"),
            ("symptomatic", "no"), ("symptomatic CNS", "unknown"), ("local therapy for PD", "yes"),
            ("continued beyond PD", "yes, 45 days"),
        ),
        pfs="650 days (21.4 months), event: progression",
        os="1422 days (46.7 months), censored: cutoff",
    ),)
    page = response.content.decode()
    assert "2020-06-08 PR (derived) · 2020-09-01 SD (reported) · 2021-12-20 PD (derived)" in page
    assert "650 days (21.4 months), event: progression" in page


def test_the_patient_page_shows_the_patients_derived_labels_and_how_they_were_derived(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    derive_patient(patient, cohort=2, tki_sequence="crizotinib>alectinib", index_pd_date=date(2022, 5, 3),
                   alk_mut_status_at_index="mutation", os_dx_days=1000, os_dx_months=Decimal("32.854209"),
                   os_dx_event=True, is_stale=True)

    response = coordinator_client.get(change_url(patient))

    derived = response.context["derived"]
    assert derived.status == (
        ("rules version", "1"), ("data cut-off", "2024-01-31"), ("derived at", "2024-02-01 09:30 UTC"),
        ("stale", "yes: the records or settings changed; a re-derivation is queued"),
    )
    assert derived.results == (
        ("cohort", "Cohort 2"), ("TKI sequence", "crizotinib>alectinib"), ("index progression date", "2022-05-03"),
        ("ALK mutation status at index", "mutation"), ("OS from diagnosis", "1000 days (32.9 months), event: death"),
    )


def test_a_line_without_progression_shows_no_progression_and_no_labels(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    line = factories.make_line(patient)
    derive_line(line, pfs_days=120, pfs_months=Decimal("3.942505"), pfs_event=False, pfs_censor_reason="new_therapy")
    derive_patient(patient)

    response = coordinator_client.get(change_url(patient))

    summary = response.context["derived"].lines[0]
    assert (summary.timeline, summary.progression, summary.labels, summary.pfs) == (
        "no assessment in the line's window", "no progression", (), "120 days (3.9 months), censored: new therapy",
    )


def test_the_patient_page_shows_each_biopsys_phase_and_mechanism(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    biopsy = factories.make_biopsy(patient, bx_date=date(2022, 1, 25))
    BiopsyDerivation.objects.create(
        patient=patient, biopsy=biopsy, bx_date=biopsy.bx_date, phase="post_2g", alk_kd_mutations="G1202R",
        alk_compound=False, g1202r=True, alk_independent="", mechanism_category="alk_kd_mutation",
    )
    derive_patient(patient)

    response = coordinator_client.get(change_url(patient))

    biopsy_summary = response.context["derived"].biopsies[0]
    assert (biopsy_summary.bx_date, biopsy_summary.phase, biopsy_summary.mechanism,
            biopsy_summary.alk_kd_mutations) == ("2022-01-25", "post_2g", "alk kd mutation", "G1202R")
    assert 'id="derived-biopsies"' in response.content.decode()


def test_a_patient_never_derived_shows_not_derived_yet(coordinator_client, site_a):
    patient = factories.make_full_patient(site_a)

    response = coordinator_client.get(change_url(patient))

    assert response.context["derived"].derived is False
    assert "Not derived yet." in response.content.decode()


def test_the_add_page_has_no_derived_results(coordinator_client, site_a):
    response = coordinator_client.get(changelist_url(Patient) + "add/")

    assert response.status_code == 200
    assert "derived" not in response.context
    assert "Derived results" not in response.content.decode()


def test_the_data_quality_section_lists_each_flag_with_the_instrument_record_and_where_to_correct_it(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a)
    derive_patient(patient, flags=[
        flag("lines_same_start", "treatment_line", "2021-06-01", "Lines 1, 2 start on the same day (2021-06-01)."),
        flag("dead_without_death_date", "vital_status", "vital_status"),
    ])

    response = coordinator_client.get(change_url(patient))

    flags = response.context["derived"].flags
    assert [(row.label, row.instrument, row.record, row.message, row.correct_url) for row in flags] == [
        ("Two lines start the same day", "treatment line", "2021-06-01",
         "Lines 1, 2 start on the same day (2021-06-01).",
         f"{changelist_url(TreatmentLine)}?patient__id__exact={patient.pk}"),
        ("Dead without a date of death", "Vital status", "vital_status", "Something to correct.",
         f"{change_url(patient)}#fieldset-0-3-heading"),
    ]
    page = response.content.decode()
    assert 'id="fieldset-0-3-heading" class="fieldset-heading">Vital status</h2>' in page
    assert f'href="{changelist_url(TreatmentLine)}?patient__id__exact={patient.pk}"' in page


def test_a_flags_link_to_the_instrument_lists_only_that_patients_records(coordinator_client, site_a):
    patient, other = factories.make_full_patient(site_a, "P-FLAGGED"), factories.make_full_patient(site_a, "P-OTHER")
    derive_patient(patient, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
    correct_url = coordinator_client.get(change_url(patient)).context["derived"].flags[0].correct_url

    response = coordinator_client.get(correct_url)

    assert response.status_code == 200
    assert [line.patient.record_id for line in response.context["cl"].result_list] == ["P-FLAGGED"]
    assert other.treatment_lines.exists()


# The patient change page asks, however many lines and assessments were derived:
#  1. the session, 2. the user, 3. and 4. the user's role and sites (access_for),
#  5. the patient (with its lines counted),
#  6. to 10. the five inlines' rows (lines, local therapy, assessments, lesions, biopsies), each with
#     its patient joined for the row's label,
# 11. and 12. the user's and groups' Django permissions (sidebar),
# 13. the patient derivation, 14. every assessment derivation of the patient (grouped by line in
#     Python), 15. the line derivations with their lines joined, 16. the biopsy derivations,
# 17. the sites the user may change, for the site dropdown,
# 18. the record's version, carried by the form so that a save over a change made meanwhile is refused.
PATIENT_PAGE_QUERIES = 18


@pytest.mark.parametrize("lines", [1, 5])
def test_the_patient_page_takes_the_same_number_of_queries_for_one_derived_line_and_for_five(
    client, django_assert_num_queries, coordinator_a, site_a, lines,
):
    patient = factories.make_full_patient(site_a)
    patient.treatment_lines.all().delete()
    for line_no in range(1, lines + 1):
        a_progressed_line(patient, line_no=line_no, line_start=date(2010 + 2 * line_no, 3, 10))
    derive_patient(patient, flags=[flag("lines_same_start", "treatment_line", "2020-03-10")])
    client.force_login(coordinator_a)
    ContentType.objects.get_for_model(Patient)  # cached per process: warmed so test order does not matter

    with django_assert_num_queries(PATIENT_PAGE_QUERIES):
        response = client.get(change_url(patient))

    assert response.status_code == 200
    assert len(response.context["derived"].lines) == lines
