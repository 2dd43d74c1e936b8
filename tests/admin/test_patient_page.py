"""Data entry on the patient page and on the assessment and biopsy pages it links to."""
from datetime import date

from django.contrib.admin.widgets import AdminDateWidget, AdminRadioSelect

from registry.models import LesionMeasurement, NgsVariant, Patient, Role, TreatmentLine, TumorAssessment
from tests import factories

from .admin_pages import add_inline_row, change_url, changelist_url, delete_url, form_data_of, inline_errors

NEW_LINE = {
    "line_no": "2", "line_type": "1", "line_drug": "7", "line_start": "2021-06-01",
    "treatment_line_complete": "0",
}


def test_patient_page_shows_the_case_report_form_headings_and_every_instrument_inline(
    coordinator_client, site_a,
):
    patient = factories.make_full_patient(site_a)

    response = coordinator_client.get(change_url(patient))

    assert response.status_code == 200
    headings = [fieldset.name for fieldset in response.context["adminform"]]
    assert headings == ["Enrollment", "Diagnosis", "Enrollment form status", "Vital status",
                        "Vital status form status"]
    prefixes = [inline.formset.prefix for inline in response.context["inline_admin_formsets"]]
    assert prefixes == ["treatment_lines", "local_therapies", "tumor_assessments", "lesions", "biopsies"]
    form = response.context["adminform"].form
    assert form.fields["sex"].label == "Sex"
    assert isinstance(form.fields["sex"].widget, AdminRadioSelect)
    assert list(form.fields["sex"].choices) == [(1, "Male"), (2, "Female")]
    assert isinstance(form.fields["adv_dx_date"].widget, AdminDateWidget)
    assert ("", "Unknown / not recorded") in list(form.fields["cns_mets_dx"].choices)


def test_assessments_and_biopsies_on_the_patient_page_link_to_their_own_pages(coordinator_client, site_a):
    patient = factories.make_full_patient(site_a)

    response = coordinator_client.get(change_url(patient))

    assessment, biopsy = patient.tumor_assessments.get(), patient.biopsies.get()
    assert change_url(assessment) in response.content.decode()
    assert change_url(biopsy) in response.content.decode()


def test_a_new_line_in_the_inline_gets_the_next_free_instance_number_and_the_admin_door(
    coordinator_client, coordinator_a, site_a,
):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)
    TreatmentLine.objects.filter(patient=patient).update(redcap_repeat_instance=3)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "treatment_lines", **NEW_LINE)

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 302
    line = TreatmentLine.objects.get(patient=patient, line_no=2)
    assert line.redcap_repeat_instance == 4
    created = line.history.get()
    assert (created.history_type, created.history_change_reason, created.history_user) == (
        "+", "admin", coordinator_a,
    )


def test_two_new_lines_saved_together_get_consecutive_instance_numbers(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_no": "1"})
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_no": "2", "line_start": "2022-01-01"})

    coordinator_client.post(change_url(patient), data)

    numbers = list(TreatmentLine.objects.filter(patient=patient).values_list("line_no", "redcap_repeat_instance"))
    assert numbers == [(1, 1), (2, 2)]


def test_a_line_number_the_patient_already_has_is_an_error_next_to_the_line_number(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_no": "1"})

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 200
    assert inline_errors(response, "treatment_lines")[1] == {
        "line_no": ["This patient already has a line with this number."],
    }
    assert TreatmentLine.objects.filter(patient=patient).count() == 1


def test_two_new_lines_with_the_same_number_are_refused_and_nothing_is_saved(coordinator_client, site_a):
    patient = factories.make_patient(site_a, sex=1)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    data["sex"] = "2"
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_no": "1"})
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_no": "1", "line_start": "2022-01-01"})

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 200
    formset = next(
        inline.formset for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "treatment_lines"
    )
    assert formset.non_form_errors() == [
        "Two rows have the same line number. This patient already has a line with this number."
    ]
    assert TreatmentLine.objects.filter(patient=patient).count() == 0
    assert Patient.objects.get(pk=patient.pk).sex == 1


def test_a_second_assessment_on_the_same_date_is_an_error_next_to_the_date(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    factories.make_assessment(patient, ta_date=date(2020, 3, 4))
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "tumor_assessments", ta_date="2020-03-04", tumor_assessment_complete="0")

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 200
    assert inline_errors(response, "tumor_assessments")[1] == {
        "ta_date": ["This patient already has an assessment on this date."],
    }
    assert TumorAssessment.objects.filter(patient=patient).count() == 1


def test_a_line_ending_before_it_starts_shows_the_clinical_message_next_to_the_end_date(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    add_inline_row(data, "treatment_lines", **{**NEW_LINE, "line_start": "2021-06-01", "line_end": "2021-05-01"})

    response = coordinator_client.post(change_url(patient), data)

    assert inline_errors(response, "treatment_lines")[0] == {
        "line_end": ["The line cannot end (2021-05-01) before it starts (2021-06-01)."],
    }
    assert TreatmentLine.objects.filter(patient=patient).count() == 0


def test_a_death_before_birth_is_an_error_next_to_the_date_of_death(coordinator_client, site_a):
    patient = factories.make_patient(site_a, birth_date=date(1960, 5, 1))
    data = form_data_of(coordinator_client.get(change_url(patient)))
    data.update(vital="2", death_date="1959-01-01")

    response = coordinator_client.post(change_url(patient), data)

    assert response.context["adminform"].form.errors == {
        "death_date": ["The date of death (1959-01-01) cannot be before the date of birth (1960-05-01)."],
    }
    assert Patient.objects.get(pk=patient.pk).death_date is None


def test_a_patient_edit_is_recorded_with_the_user_and_the_admin_door(coordinator_client, coordinator_a, site_a):
    patient = factories.make_patient(site_a, vital=1)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    data.update(vital="2", death_date="2024-02-03")

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 302
    latest = Patient.history.filter(id=patient.pk).latest("history_date")
    assert (latest.vital, latest.history_change_reason, latest.history_user) == (2, "admin", coordinator_a)


def test_deleting_a_line_in_the_inline_is_recorded_with_the_admin_door(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    line = factories.make_line(patient)
    data = form_data_of(coordinator_client.get(change_url(patient)))
    data["treatment_lines-0-DELETE"] = "on"

    coordinator_client.post(change_url(patient), data)

    assert not TreatmentLine.objects.filter(pk=line.pk).exists()
    deleted = TreatmentLine.history.get(id=line.pk, history_type="-")
    assert deleted.history_change_reason == "admin"


def test_the_patients_site_dropdown_offers_only_sites_the_coordinator_may_change(client, site_a, site_b):
    factories.make_site("site-c")
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    client.force_login(coordinator)

    response = client.get(changelist_url(Patient) + "add/")

    assert list(response.context["adminform"].form.fields["site"].queryset) == [site_a, site_b]


def test_the_measurement_inline_offers_only_the_lesions_of_the_assessments_patient(coordinator_client, site_a):
    patient, other = factories.make_patient(site_a), factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    own = factories.make_lesion(patient, "L1-T1")
    factories.make_lesion(other, "L9-T9")

    response = coordinator_client.get(change_url(assessment))

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.prefix == "measurements"
    assert list(formset.empty_form.fields["lesion"].queryset) == [own]


def test_a_new_measurement_on_the_assessment_page_belongs_to_its_patient_with_the_next_instance(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    first, second = factories.make_lesion(patient, "L1-T1"), factories.make_lesion(patient, "L2-T1")
    factories.make_measurement(assessment, first)
    data = form_data_of(coordinator_client.get(change_url(assessment)))
    add_inline_row(data, "measurements", lesion=str(second.pk), lm_status="1", lm_mm="12.5",
                   lesion_measurement_complete="0")

    response = coordinator_client.post(change_url(assessment), data)

    assert response.status_code == 302
    measurement = LesionMeasurement.objects.get(lesion=second)
    assert (measurement.patient_id, measurement.redcap_repeat_instance) == (patient.pk, 2)
    assert measurement.history.get().history_change_reason == "admin"


def test_measuring_a_lesion_twice_at_one_assessment_is_an_error_next_to_the_lesion(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    lesion = factories.make_lesion(patient)
    factories.make_measurement(assessment, lesion)
    data = form_data_of(coordinator_client.get(change_url(assessment)))
    add_inline_row(data, "measurements", lesion=str(lesion.pk), lm_status="2", lesion_measurement_complete="0")

    response = coordinator_client.post(change_url(assessment), data)

    assert response.status_code == 200
    assert inline_errors(response, "measurements")[1] == {
        "lesion": ["This lesion already has a measurement at this assessment."],
    }
    assert LesionMeasurement.objects.count() == 1


def test_a_new_variant_on_the_biopsy_page_belongs_to_the_biopsys_patient(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    biopsy = factories.make_biopsy(patient)
    data = form_data_of(coordinator_client.get(change_url(biopsy)))
    add_inline_row(data, "variants", var_gene="ALK", var_kind="3", var_partner="EML4", ngs_variant_complete="0")

    response = coordinator_client.post(change_url(biopsy), data)

    assert response.status_code == 302
    variant = NgsVariant.objects.get()
    assert (variant.patient_id, variant.biopsy_id, variant.redcap_repeat_instance) == (patient.pk, biopsy.pk, 1)


def test_a_protein_change_on_a_fusion_is_an_error_next_to_the_protein_change(coordinator_client, site_a):
    biopsy = factories.make_biopsy(factories.make_patient(site_a))
    data = form_data_of(coordinator_client.get(change_url(biopsy)))
    add_inline_row(data, "variants", var_gene="ALK", var_kind="3", var_protein="G1202R", ngs_variant_complete="0")

    response = coordinator_client.post(change_url(biopsy), data)

    assert inline_errors(response, "variants")[0] == {
        "var_protein": ["A protein change is recorded only for a point mutation or small indel."],
    }
    assert NgsVariant.objects.count() == 0


def test_a_line_added_on_its_own_page_gets_the_next_instance_number(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)

    response = coordinator_client.post(changelist_url(TreatmentLine) + "add/", {
        "patient": str(patient.pk), **NEW_LINE,
    })

    assert response.status_code == 302
    assert TreatmentLine.objects.get(line_no=2).redcap_repeat_instance == 2


def test_changing_a_line_to_a_number_the_patient_already_has_is_an_error_next_to_the_line_number(
    coordinator_client, site_a,
):
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_no=1)
    second = factories.make_line(patient, line_no=2, line_start=date(2021, 1, 1))
    data = form_data_of(coordinator_client.get(change_url(second)))
    data["line_no"] = "1"

    response = coordinator_client.post(change_url(second), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "line_no": ["This patient already has a line with this number."],
    }
    assert TreatmentLine.objects.get(pk=second.pk).line_no == 2


def test_a_measurement_of_another_patients_lesion_is_refused_on_the_measurement_page(coordinator_client, site_a):
    patient, other = factories.make_patient(site_a), factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    foreign_lesion = factories.make_lesion(other)

    response = coordinator_client.post(changelist_url(LesionMeasurement) + "add/", {
        "assessment": str(assessment.pk), "lesion": str(foreign_lesion.pk), "lm_status": "1", "lm_mm": "10",
        "lesion_measurement_complete": "0",
    })

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"lesion": ["The lesion belongs to another patient."]}
    assert LesionMeasurement.objects.count() == 0


def test_a_coordinator_may_not_delete_a_patient_but_an_administrator_may(client, coordinator_a, site_a):
    patient = factories.make_full_patient(site_a)
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    client.force_login(coordinator_a)

    refused = client.post(delete_url(patient), {"post": "yes"})

    assert refused.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()
    client.force_login(administrator)
    accepted = client.post(delete_url(patient), {"post": "yes"})
    assert accepted.status_code == 302
    assert not Patient.objects.filter(pk=patient.pk).exists()
