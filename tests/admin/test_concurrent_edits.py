"""Two people editing one record: a change page carries the record's version, and a save over a change
made meanwhile, through any door, is refused with who changed the record and when, writing nothing."""
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import tablib
from django.test import Client
from django.utils import timezone

from registry.models import (
    LesionMeasurement, NgsVariant, Patient, PatientVersion, Role, TreatmentLine, TumorAssessment,
)
from registry.records.spreadsheets import NgsVariantResource, spreadsheet_problems
from registry.services import record_writes
from registry.services.instances import instance_save
from registry.services.records import records_import
from tests import factories

from .admin_pages import add_inline_row, change_url, changelist_url, form_data_of

# The other writer's change is made at this moment, so the expected message can be written out.
CHANGED_AT = datetime(2024, 5, 1, 10, 2, 37, tzinfo=UTC)
REFUSAL = (
    "This record was changed by {who} at 2024-05-01 10:02 UTC after you opened this page; nothing was saved. "
    'Review the current values (<a href="{url}" target="_blank" rel="noopener">open in a new tab</a>) and '
    "save again."
)
NEW_LINE = {
    "line_no": "2", "line_type": "1", "line_drug": "7", "line_start": "2021-06-01", "treatment_line_complete": "0",
}


@pytest.fixture
def coordinator_b(site_a):
    return factories.make_user("coordinator_b", role=Role.COORDINATOR, sites=[site_a])


@pytest.fixture
def second_client(coordinator_b):
    client = Client()
    client.force_login(coordinator_b)
    return client


@pytest.fixture
def at_changed_at(monkeypatch):
    """The clock (timezone.now, read by the history rows and the version stamps) stands ten minutes
    before CHANGED_AT (within the idle time that ends a login session) while the test sets up, and at
    CHANGED_AT from the other writer's change on."""
    clock = [CHANGED_AT - timedelta(minutes=10)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])

    def run(change):
        clock[0] = CHANGED_AT
        return change()

    return run


def record_state(patient: Patient) -> tuple:
    """Everything a refused save could have touched: the patient's values, its instruments' rows, the
    audit trail, the record's version."""
    versions = list(PatientVersion.objects.filter(patient=patient).values_list("number", "changed_at"))
    return (
        list(Patient.objects.filter(pk=patient.pk).values()),
        list(TreatmentLine.objects.filter(patient=patient).order_by("pk").values()),
        list(TumorAssessment.objects.filter(patient=patient).order_by("pk").values()),
        list(LesionMeasurement.objects.filter(patient=patient).order_by("pk").values()),
        list(NgsVariant.objects.filter(patient=patient).order_by("pk").values()),
        Patient.history.count() + TreatmentLine.history.count() + TumorAssessment.history.count()
        + LesionMeasurement.history.count() + NgsVariant.history.count(),
        versions,
    )


def errors_at_the_top(response) -> list[str]:
    return list(response.context["adminform"].form.non_field_errors())


def test_a_patient_page_saved_over_another_coordinators_save_is_refused_and_writes_nothing(
    at_changed_at, coordinator_client, second_client, site_a,
):
    patient = factories.make_full_patient(site_a, "P-A")
    first_page = form_data_of(coordinator_client.get(change_url(patient)))
    second_page = form_data_of(second_client.get(change_url(patient)))
    second_page["mrn"] = "MRN-B"
    assert at_changed_at(lambda: second_client.post(change_url(patient), second_page)).status_code == 302
    before = record_state(patient)
    first_page["mrn"] = "MRN-A"
    add_inline_row(first_page, "treatment_lines", **NEW_LINE)

    response = coordinator_client.post(change_url(patient), first_page)

    assert response.status_code == 200
    assert errors_at_the_top(response) == [REFUSAL.format(who="coordinator_b", url=change_url(patient))]
    page = response.content.decode()
    # Shown as a link (not escaped text), in the error list the admin puts above the first fieldset.
    assert page.index(f'<ul class="errorlist nonfield"><li>This record was changed by coordinator_b') \
        < page.index('id="fieldset-0-0-heading"')
    assert f'(<a href="{change_url(patient)}" target="_blank" rel="noopener">open in a new tab</a>)' in page
    assert record_state(patient) == before
    assert Patient.objects.get(pk=patient.pk).mrn == "MRN-B"


def test_the_refused_patient_page_keeps_what_was_typed_and_saved_again_goes_through(
    coordinator_client, second_client, at_changed_at, site_a,
):
    patient = factories.make_full_patient(site_a, "P-A")
    first_page = form_data_of(coordinator_client.get(change_url(patient)))
    second_page = form_data_of(second_client.get(change_url(patient)))
    second_page["mrn"] = "MRN-B"
    at_changed_at(lambda: second_client.post(change_url(patient), second_page))
    first_page["mrn"] = "MRN-A"
    add_inline_row(first_page, "treatment_lines", **NEW_LINE)
    refused = coordinator_client.post(change_url(patient), first_page)

    shown_again = form_data_of(refused)
    response = coordinator_client.post(change_url(patient), shown_again)

    assert (shown_again["mrn"], shown_again["treatment_lines-1-line_no"]) == ("MRN-A", "2")
    assert shown_again["record_version"] == f"{patient.pk}.2"
    assert response.status_code == 302
    saved = Patient.objects.get(pk=patient.pk)
    assert saved.mrn == "MRN-A"  # the page's values are saved over the other change, as the user was told
    assert list(TreatmentLine.objects.filter(patient=patient).values_list("line_no", flat=True).order_by("line_no")) \
        == [1, 2]


def test_an_instrument_page_saved_over_a_change_through_the_rest_api_is_refused_and_writes_nothing(
    coordinator_client, coordinator_b, at_changed_at, site_a,
):
    patient = factories.make_full_patient(site_a, "P-A")
    line = patient.treatment_lines.get()
    page = form_data_of(coordinator_client.get(change_url(line)))
    at_changed_at(lambda: record_writes.record_instance_update(
        patient=patient, form="treatment_line", instance=line.redcap_repeat_instance, cells={"line_ecog": "2"},
        user=coordinator_b, door="api", expected_version=None,
    ))
    before = record_state(patient)
    page["line_ecog"] = "1"

    response = coordinator_client.post(change_url(line), page)

    assert response.status_code == 200
    assert errors_at_the_top(response) == [REFUSAL.format(who="coordinator_b", url=change_url(line))]
    assert record_state(patient) == before
    assert TreatmentLine.objects.get(pk=line.pk).line_ecog == 2


def test_an_assessment_page_with_measurements_saved_over_a_redcap_import_is_refused_and_writes_nothing(
    coordinator_client, coordinator_b, at_changed_at, site_a,
):
    patient = factories.make_full_patient(site_a, "P-A")
    assessment = patient.tumor_assessments.get()
    page = form_data_of(coordinator_client.get(change_url(assessment)))
    flat = "record_id,mrn\nP-A,MRN-IMPORTED\n".encode()
    imported = at_changed_at(lambda: records_import(
        source=io.BytesIO(flat), file_format="csv", site=site_a, user=coordinator_b, door="import",
    ))
    assert imported.ok
    before = record_state(patient)
    page["ta_nontarget"] = "3"
    page["measurements-0-lm_mm"] = "99"

    response = coordinator_client.post(change_url(assessment), page)

    assert response.status_code == 200
    assert errors_at_the_top(response) == [REFUSAL.format(who="coordinator_b", url=change_url(assessment))]
    assert record_state(patient) == before


def test_a_change_made_by_the_system_is_named_as_such(coordinator_client, at_changed_at, site_a):
    patient = factories.make_patient(site_a, "P-A")
    page = form_data_of(coordinator_client.get(change_url(patient)))
    at_changed_at(lambda: instance_save(instance=Patient.objects.get(pk=patient.pk), user=None, door="load"))

    response = coordinator_client.post(change_url(patient), page)

    assert errors_at_the_top(response) == [REFUSAL.format(who="the system", url=change_url(patient))]


def test_a_change_page_posted_without_the_records_version_is_refused_and_writes_nothing(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a, "P-A", mrn="MRN-0")
    page = form_data_of(coordinator_client.get(change_url(patient)))
    del page["record_version"]
    page["mrn"] = "MRN-A"
    before = record_state(patient)

    response = coordinator_client.post(change_url(patient), page)

    assert response.status_code == 200
    assert errors_at_the_top(response) == [
        "This page did not say which version of the record it showed (it may be older than the registry's last "
        "update); nothing was saved. Check the values below and save again."
    ]
    assert record_state(patient) == before


def test_a_page_saved_with_nothing_changed_meanwhile_goes_through_and_moves_the_version_on(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a, "P-A", mrn="MRN-0")
    page = form_data_of(coordinator_client.get(change_url(patient)))
    page["mrn"] = "MRN-A"

    response = coordinator_client.post(change_url(patient), page)

    assert response.status_code == 302
    assert page["record_version"] == f"{patient.pk}.1"
    assert PatientVersion.objects.get(patient=patient).number == 2
    assert Patient.objects.get(pk=patient.pk).mrn == "MRN-A"


def test_the_version_is_not_listed_among_the_changed_fields_of_the_admin_log(coordinator_client, site_a):
    patient = factories.make_patient(site_a, "P-A", mrn="MRN-0")
    page = form_data_of(coordinator_client.get(change_url(patient)))
    page["mrn"] = "MRN-A"

    coordinator_client.post(change_url(patient), page)

    from django.contrib.admin.models import LogEntry
    assert LogEntry.objects.get().get_change_message() == "Changed Hospital medical record number."


def test_an_add_page_carries_no_version_and_numbers_the_new_instance_after_the_highest(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a, "P-A")
    factories.make_line(patient, line_no=1)
    TreatmentLine.objects.filter(patient=patient).update(redcap_repeat_instance=5)
    page = form_data_of(coordinator_client.get(changelist_url(TreatmentLine) + "add/"))
    page.update(patient=str(patient.pk), **NEW_LINE)

    response = coordinator_client.post(changelist_url(TreatmentLine) + "add/", page)

    assert "record_version" not in page
    assert response.status_code == 302
    added = TreatmentLine.objects.get(patient=patient, line_no=2)
    assert (added.redcap_repeat_instance, added.line_start) == (6, date(2021, 6, 1))


def test_a_biopsy_page_saved_over_a_spreadsheet_import_of_its_variants_is_refused_and_writes_nothing(
    coordinator_client, coordinator_b, at_changed_at, site_a,
):
    patient = factories.make_full_patient(site_a, "P-A")
    biopsy = patient.biopsies.get()
    page = form_data_of(coordinator_client.get(change_url(biopsy)))
    lab_file = tablib.Dataset().load(
        "record_id,var_bx_date,var_gene,var_kind,var_protein,var_partner\n"
        f"P-A,{biopsy.bx_date:%Y-%m-%d},MET,2,,\n", format="csv",
    )
    imported = at_changed_at(lambda: NgsVariantResource(user=coordinator_b).import_data(lab_file, dry_run=False))
    assert spreadsheet_problems(imported) == []
    before = record_state(patient)
    page["bx_adequate"] = "0"

    response = coordinator_client.post(change_url(biopsy), page)

    assert response.status_code == 200
    assert errors_at_the_top(response) == [REFUSAL.format(who="coordinator_b", url=change_url(biopsy))]
    assert record_state(patient) == before
