"""The selector that turns stored records into the derivations' dataclasses, with a fixed number of queries."""
from datetime import date
from decimal import Decimal

import pytest

from registry import derive
from registry.derive.inputs import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, PatientRecord, TreatmentLine, TumorAssessment,
)
from registry.models import AnalysisSettings, PatientDerivation
from registry.selectors.derivation_inputs import (
    current_analysis_settings, patient_ids_to_derive, patient_inputs, patient_records, settings_snapshot,
)
from tests import factories


def _patient_with_every_instrument(site, record_id="P-IN-1"):
    patient = factories.make_patient(
        site, record_id, birth_date=date(1960, 5, 1), smoking=0, cns_mets_dx=1, vital=1,
        last_alive_date=date(2023, 11, 20),
    )
    factories.make_line(patient, 2, line_type=2, line_drug=20, line_start=date(2021, 1, 4))
    factories.make_line(patient, 1, line_end=date(2021, 1, 3), line_end_reason=1, line_ecog=1, line_cns_mets=1)
    factories.make_local_therapy(patient, lt_date=date(2020, 9, 1), lt_type=1, lt_site=3, lt_intent=1)
    baseline = factories.make_assessment(patient, date(2020, 3, 4), ta_scope_1=True, ta_scope_2=True)
    progression = factories.make_assessment(
        patient, date(2020, 8, 20), ta_scope_1=True, ta_new_lesion=1, ta_new_sites_3=True, ta_new_sites_99=True,
        ta_new_count=2, ta_symptoms=1, ta_neuro_symptoms=0, ta_reported=4, ta_nontarget=2,
    )
    target = factories.make_lesion(patient, "L1-T1", les_class=1, les_site=1)
    factories.make_lesion(patient, "L1-N1", les_class=2, les_site=2)  # never measured
    factories.make_measurement(progression, target, lm_mm=Decimal("31.5"))
    factories.make_measurement(baseline, target, lm_mm=Decimal("40"))
    sequenced = factories.make_biopsy(patient, date(2020, 9, 1), bx_adequate=1, bx_histology=1, bx_ngs=1,
                                      bx_ngs_panel="Oncomine 50")
    factories.make_biopsy(patient, date(2019, 12, 1), bx_site=1)  # no variants
    factories.make_variant(sequenced, var_gene="ALK", var_kind=1, var_protein="p.G1202R", var_vaf=Decimal("12.5"))
    factories.make_variant(sequenced, var_gene="MET", var_kind=2, var_protein="", var_cn=Decimal("8"))
    return patient


def test_a_stored_patient_becomes_the_record_the_derivations_take(site_a):
    patient = _patient_with_every_instrument(site_a)

    record = patient_records([patient.id])[patient.id]

    # Repeating records in form order (lines by number, the rest by date, lesions by identifier),
    # checkboxes as the set of ticked codes, measurements named by their assessment's date; each
    # repeating record with its instance, numbered per form in the order the records were made.
    assert record == PatientRecord(
        record_id="P-IN-1", adv_dx_date=date(2020, 3, 2), birth_date=date(1960, 5, 1), sex=2, smoking=0,
        histology=1, cns_mets_dx=1, last_alive_date=date(2023, 11, 20), vital=1, death_date=None, death_cause=None,
        lines=(
            TreatmentLine(line_no=1, line_type=1, line_drug=2, line_start=date(2020, 3, 10), line_end=date(2021, 1, 3),
                          line_end_reason=1, line_ecog=1, line_cns_mets=1, instance=2),
            TreatmentLine(line_no=2, line_type=2, line_drug=20, line_start=date(2021, 1, 4), instance=1),
        ),
        local_therapies=(LocalTherapy(lt_date=date(2020, 9, 1), lt_type=1, lt_site=3, lt_intent=1, instance=1),),
        assessments=(
            TumorAssessment(ta_date=date(2020, 3, 4), ta_scope=frozenset({1, 2}), instance=1),
            TumorAssessment(ta_date=date(2020, 8, 20), ta_scope=frozenset({1}), ta_nontarget=2, ta_new_lesion=1,
                            ta_new_sites=frozenset({3, 99}), ta_new_count=2, ta_symptoms=1, ta_neuro_symptoms=0,
                            ta_reported=4, instance=2),
        ),
        lesions=(Lesion("L1-N1", les_line=1, les_class=2, les_site=2), Lesion("L1-T1", les_line=1, les_class=1,
                                                                               les_site=1)),
        measurements=(
            LesionMeasurement(lm_date=date(2020, 3, 4), lm_lesion="L1-T1", lm_status=1, lm_mm=Decimal("40")),
            LesionMeasurement(lm_date=date(2020, 8, 20), lm_lesion="L1-T1", lm_status=1, lm_mm=Decimal("31.5")),
        ),
        biopsies=(
            Biopsy(bx_date=date(2019, 12, 1), bx_specimen=1, bx_site=1, instance=2),
            Biopsy(bx_date=date(2020, 9, 1), bx_specimen=1, bx_adequate=1, bx_histology=1, bx_ngs=1,
                   bx_ngs_panel="Oncomine 50", instance=1),
        ),
        variants=(
            NgsVariant(var_bx_date=date(2020, 9, 1), var_gene="ALK", var_kind=1, var_protein="p.G1202R",
                       var_vaf=Decimal("12.5")),
            NgsVariant(var_bx_date=date(2020, 9, 1), var_gene="MET", var_kind=2, var_cn=Decimal("8")),
        ),
    )


def test_the_inputs_name_the_rows_each_result_belongs_to(site_a):
    patient = _patient_with_every_instrument(site_a)

    inputs = patient_inputs([patient.id])[patient.id]

    assert inputs.line_ids == {line.line_no: line.id for line in patient.treatment_lines.all()}
    assert inputs.assessment_ids == {a.ta_date: a.id for a in patient.tumor_assessments.all()}
    assert inputs.biopsy_ids == {b.bx_date: b.id for b in patient.biopsies.all()}


def test_a_patient_without_repeating_records_has_empty_ones_and_a_missing_id_is_left_out(site_a):
    patient = factories.make_patient(site_a, "P-EMPTY")

    records = patient_records([patient.id, 999_999])

    assert list(records) == [patient.id]
    assert records[patient.id].lines == records[patient.id].measurements == records[patient.id].variants == ()


def test_no_ids_cost_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert patient_records([]) == {}


@pytest.mark.parametrize("patient_count", [1, 6])
def test_loading_a_batch_costs_six_queries_whatever_its_size(site_a, patient_count, django_assert_num_queries):
    ids = [_patient_with_every_instrument(site_a, f"P-Q-{number}").id for number in range(patient_count)]

    # 1 patients, 2 treatment lines, 3 local therapy, 4 tumor assessments,
    # 5 lesions LEFT JOIN their measurements, 6 biopsies LEFT JOIN their variants.
    with django_assert_num_queries(6):
        records = patient_records(ids)

    assert len(records) == patient_count
    assert all(len(record.measurements) == 2 and len(record.variants) == 2 for record in records.values())


def test_current_analysis_settings_creates_the_defaults_once_then_reads_them_in_one_query(
    db, django_assert_num_queries,
):
    assert current_analysis_settings() == derive.AnalysisSettings()
    AnalysisSettings.objects.filter(pk=1).update(data_cutoff=date(2024, 6, 30), sd_min_days=56)

    with django_assert_num_queries(1):
        settings = current_analysis_settings()

    assert settings == derive.AnalysisSettings(data_cutoff=date(2024, 6, 30), sd_min_days=56)


def test_the_settings_snapshot_is_json_with_dates_and_decimals_as_text():
    settings = derive.AnalysisSettings(data_cutoff=date(2024, 6, 30), lesion_progression_min_mm=Decimal("5.00"))

    assert settings_snapshot(settings) == {
        "data_cutoff": "2024-06-30", "baseline_window_days": 60, "death_window_days": 182,
        "pfs_death_is_event": True, "lesion_progression_min_mm": "5", "sd_min_days": 42,
        "local_therapy_window_days": 60, "beyond_pd_min_days": 30, "biopsy_lookback_days": 30,
        "days_per_month": "30.4375", "study_id": "ALK-REGISTRY",
    }


def test_patients_to_derive_are_those_never_derived_stale_or_derived_with_other_settings(site_a):
    settings = derive.AnalysisSettings(data_cutoff=date(2024, 6, 30))
    never, stale, current, other_settings, other_rules = (
        factories.make_patient(site_a, f"P-{name}") for name in ("NEVER", "STALE", "CURRENT", "OTHER", "RULES")
    )

    def derived(patient, **values):
        fields = {"rules_version": 2, "settings_snapshot": settings_snapshot(settings),
                  "derived_at": "2024-07-01T00:00Z"}
        PatientDerivation.objects.create(patient=patient, **{**fields, **values})

    derived(stale, is_stale=True)
    derived(current)
    derived(other_settings, settings_snapshot=settings_snapshot(derive.AnalysisSettings()))
    derived(other_rules, rules_version=1)  # derived under rules version 1: stale under version 2

    assert patient_ids_to_derive(settings) == sorted([never.id, stale.id, other_settings.id, other_rules.id])
