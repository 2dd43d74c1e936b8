"""patients_derive: what is stored for a hand-worked patient, and what it costs in queries."""
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from registry import derive
from registry.models import (
    AnalysisSettings, AssessmentDerivation, BiopsyDerivation, LineDerivation, PatientDerivation,
)
from registry.services import derivation
from registry.services.derivation import DerivationSummary, patients_derive
from tests import factories

CUTOFF = date(2024, 6, 30)
SETTINGS = derive.AnalysisSettings(data_cutoff=CUTOFF)


def _statement(sql: str) -> str:
    """SELECT, INSERT, ...; Django logs an executemany (SQLite's inserts) as "<n> times: INSERT ..."."""
    return re.sub(r"^\d+ times: ", "", sql).split()[0]


def _alectinib_then_lorlatinib(site, record_id="P-HAND"):
    """Line 1 alectinib from 2020-03-10, one target lesion in the lung: 40 mm at the baseline
    (2020-03-04), 20 mm on 2020-05-05, 30 mm on 2020-07-07. Line 2 lorlatinib from 2020-08-01.
    A biopsy on 2020-07-20 finds ALK G1202R. Alive on 2023-11-20."""
    patient = factories.make_patient(site, record_id, birth_date=date(1960, 5, 1), vital=1,
                                     last_alive_date=date(2023, 11, 20))
    factories.make_line(patient, 1, line_drug=2, line_start=date(2020, 3, 10), line_end=date(2020, 8, 1),
                        line_end_reason=1)
    factories.make_line(patient, 2, line_drug=7, line_start=date(2020, 8, 1))
    lesion = factories.make_lesion(patient, "L1-T1", les_line=1, les_class=1, les_site=1)
    for ta_date, mm in ((date(2020, 3, 4), 40), (date(2020, 5, 5), 20), (date(2020, 7, 7), 30)):
        factories.make_measurement(factories.make_assessment(patient, ta_date), lesion, lm_mm=Decimal(mm))
    biopsy = factories.make_biopsy(patient, date(2020, 7, 20), bx_adequate=1, bx_histology=1, bx_ngs=1)
    factories.make_variant(biopsy, var_gene="ALK", var_kind=1, var_protein="p.Gly1202Arg")
    return patient


def _delete_statements() -> int:
    """The results' DELETE: one statement on PostgreSQL (WITH ... DELETE), one per table on SQLite."""
    return 1 if connection.vendor == "postgresql" else 3


def _batch_queries() -> int:
    # 6 loads + 1 upsert + the deletes + 3 inserts, for 1 patient or 600.
    return 6 + 1 + _delete_statements() + 3


@pytest.fixture
def stored_settings(db):
    return AnalysisSettings.objects.create(pk=1, data_cutoff=CUTOFF)


def test_line_1_progressing_by_recist_stores_its_progression_and_pfs(site_a, stored_settings):
    patient = _alectinib_then_lorlatinib(site_a)

    summary = patients_derive(patient_ids=[patient.id])

    line_1 = LineDerivation.objects.get(patient=patient, line_no=1)
    assert line_1.line == patient.treatment_lines.get(line_no=1)
    assert line_1.baseline_date == date(2020, 3, 4)
    # RECIST 1.1: 20 mm on 2020-05-05 is PR (10 x 20 = 200 <= 7 x 40 = 280); 30 mm on 2020-07-07 is
    # PD against the nadir of 20 mm (10 x 30 = 300 >= 12 x 20 = 240, and 30 - 20 = 10 mm >= 5 mm).
    assert line_1.pd_date == date(2020, 7, 7)
    assert line_1.best_response == "PR"
    # PFS: 2020-03-10 to 2020-07-07 = 21 + 30 + 31 + 30 + 7 = 119 days, an event; 119 / 30.4375 months.
    assert (line_1.pfs_date, line_1.pfs_days, line_1.pfs_event, line_1.pfs_event_type) == (
        date(2020, 7, 7), 119, True, "progression")
    assert line_1.pfs_months == Decimal("3.909651")
    assert line_1.pfs_censor_reason == ""
    # One progressing lesion (30 >= its nadir 20 + 5 mm) in the lung: oligo, not CNS.
    assert (line_1.extent, line_1.n_progressing_lesions, line_1.involved_sites) == ("oligo", 1, "1")
    assert (line_1.cns_progression, line_1.cns_only_progression) == (False, False)
    assert line_1.symptomatic_progression is None  # ta_symptoms blank: unknown, not no
    # Ended 2020-08-01, 25 days after the progression: not continued beyond it (> 30 days).
    assert (line_1.continued_beyond_pd, line_1.beyond_pd_days) == (False, None)
    # OS: censored on the date last known alive, 2020-03-10 to 2023-11-20 = 1095 + 245 + 10 = 1350 days.
    assert (line_1.os_date, line_1.os_days, line_1.os_event, line_1.os_censor_reason) == (
        date(2023, 11, 20), 1350, False, "last_known_alive")
    assert (line_1.tki_generation, line_1.age_at_start, line_1.histology_at_start) == (2, 59, 1)
    assert line_1.subsequent_to_index is False

    line_2 = LineDerivation.objects.get(patient=patient, line_no=2)
    # Nothing adequate in line 2's window: censored at its start, 0 days.
    assert (line_2.pd_date, line_2.pfs_days, line_2.pfs_event, line_2.pfs_censor_reason) == (
        None, 0, False, "no_adequate_assessment")
    assert line_2.subsequent_to_index is True

    assessments = list(AssessmentDerivation.objects.filter(patient=patient).order_by("ta_date").values_list(
        "line_no", "ta_date", "target_sum_mm", "pct_change_baseline", "pct_change_nadir", "target_response",
        "nontarget_response", "overall_response", "response_source", "discrepancy"))
    assert assessments == [
        (1, date(2020, 5, 5), Decimal("20.00"), Decimal("-50.000000"), Decimal("-50.000000"), "PR", "", "PR",
         "derived", None),
        (1, date(2020, 7, 7), Decimal("30.00"), Decimal("-25.000000"), Decimal("50.000000"), "PD", "", "PD",
         "derived", None),
    ]
    assert {row.assessment.ta_date for row in AssessmentDerivation.objects.filter(patient=patient)} == {
        date(2020, 5, 5), date(2020, 7, 7)}

    biopsy = BiopsyDerivation.objects.get(patient=patient)
    # Taken 13 days after the alectinib progression, before lorlatinib: resistance to a 2nd-generation TKI.
    assert (biopsy.biopsy.bx_date, biopsy.phase, biopsy.alk_kd_mutations, biopsy.g1202r, biopsy.alk_compound,
            biopsy.mechanism_category) == (date(2020, 7, 20), "post_2g", "G1202R", True, False, "alk_kd_mutation")

    stored = PatientDerivation.objects.get(patient=patient)
    # Cohort 1: line 1 is alectinib and progressed; its progression is the index one.
    assert (stored.cohort, stored.index_line_no, stored.index_pd_date, stored.tki_sequence,
            stored.alk_mut_status_at_index) == (1, 1, date(2020, 7, 7), "alectinib>lorlatinib", "mutation")
    assert (stored.rules_version, stored.data_cutoff, stored.is_stale) == (2, CUTOFF, False)  # rules version 2
    assert stored.settings_snapshot["data_cutoff"] == "2024-06-30"
    assert stored.settings_snapshot["lesion_progression_min_mm"] == "5"
    assert (stored.flags, stored.flag_count, stored.flag_codes) == ([], 0, "")
    assert summary == DerivationSummary(patients=1, lines=2, assessments=2, biopsies=1, flags=0,
                                        seconds=summary.seconds)


def test_data_quality_flags_are_stored_with_their_codes_between_semicolons(site_a, stored_settings):
    patient = factories.make_patient(site_a, "P-FLAGS", vital=2)  # dead, without a date of death

    summary = patients_derive(patient_ids=[patient.id])

    stored = PatientDerivation.objects.get(patient=patient)
    assert stored.flag_codes == ";dead_without_death_date;"
    assert stored.flag_count == 1 == summary.flags
    assert [flag["code"] for flag in stored.flags] == ["dead_without_death_date"]
    assert set(stored.flags[0]) == {"code", "message", "form", "instance"}


def test_deriving_again_replaces_the_results_and_is_idempotent(site_a, stored_settings):
    patient = _alectinib_then_lorlatinib(site_a)
    patients_derive(patient_ids=[patient.id])
    first = PatientDerivation.objects.get(patient=patient)
    PatientDerivation.objects.filter(pk=first.pk).update(is_stale=True)

    patients_derive(patient_ids=[patient.id])

    again = PatientDerivation.objects.get(patient=patient)
    assert again.pk == first.pk  # updated in place, not deleted and inserted
    assert again.is_stale is False
    assert again.derived_at >= first.derived_at
    assert LineDerivation.objects.filter(patient=patient).count() == 2
    assert AssessmentDerivation.objects.filter(patient=patient).count() == 2
    assert BiopsyDerivation.objects.filter(patient=patient).count() == 1


def test_a_line_removed_since_loses_its_stored_results(site_a, stored_settings):
    patient = _alectinib_then_lorlatinib(site_a)
    patients_derive(patient_ids=[patient.id])

    patient.treatment_lines.get(line_no=2).delete()
    patients_derive(patient_ids=[patient.id])

    assert list(LineDerivation.objects.filter(patient=patient).values_list("line_no", flat=True)) == [1]


def test_other_patients_results_are_left_alone(site_a, stored_settings):
    derived, other = _alectinib_then_lorlatinib(site_a, "P-1"), _alectinib_then_lorlatinib(site_a, "P-2")
    patients_derive(patient_ids=[other.id])
    other_lines = list(LineDerivation.objects.filter(patient=other).values_list("id", flat=True))

    patients_derive(patient_ids=[derived.id])

    assert list(LineDerivation.objects.filter(patient=other).values_list("id", flat=True)) == other_lines


def test_rederiving_one_patient_costs_twelve_queries_on_postgresql(site_a, stored_settings,
                                                                   django_assert_num_queries):
    patient = _alectinib_then_lorlatinib(site_a)
    patients_derive(patient_ids=[patient.id])

    # 1 the analysis settings
    # 2 the patient, FOR NO KEY UPDATE on PostgreSQL, 3 lines, 4 local therapy, 5 assessments,
    #   6 lesions LEFT JOIN measurements, 7 biopsies LEFT JOIN variants
    # 8 INSERT ... ON CONFLICT (patient_id) DO UPDATE of the PatientDerivation
    # 9 DELETE the line, assessment and biopsy results: on PostgreSQL one WITH ... DELETE statement
    #   for the three tables; on SQLite three DELETEs (a fast delete each)
    # 10-12 INSERT the line, assessment and biopsy results: on PostgreSQL one binary COPY each
    # (The batch's transaction joins the test's without a savepoint; on its own it adds BEGIN and
    # COMMIT: 14 on PostgreSQL.) The target: at most 15.
    with django_assert_num_queries(1 + _batch_queries()) as captured:
        patients_derive(patient_ids=[patient.id])

    statements = [_statement(query["sql"]) for query in captured.captured_queries]
    deletes = ["WITH"] if connection.vendor == "postgresql" else ["DELETE"] * 3
    inserts = ["COPY"] * 3 if connection.vendor == "postgresql" else ["INSERT"] * 3
    assert statements == ["SELECT"] * 7 + ["INSERT"] + deletes + inserts


def test_a_batch_costs_the_same_queries_whatever_its_size(site_a, django_assert_num_queries):
    one = [_alectinib_then_lorlatinib(site_a, "P-ONE").id]
    six = [_alectinib_then_lorlatinib(site_a, f"P-SIX-{number}").id for number in range(6)]

    # With the settings given: 6 loads + 1 upsert + the deletes + 3 inserts, for 1 patient or 6.
    with django_assert_num_queries(_batch_queries()):
        patients_derive(patient_ids=one, settings=SETTINGS)
    with django_assert_num_queries(_batch_queries()):
        patients_derive(patient_ids=six, settings=SETTINGS)

    assert PatientDerivation.objects.count() == 7


def test_batches_each_cost_their_own_fixed_queries_and_report_progress(site_a, django_assert_num_queries):
    ids = [_alectinib_then_lorlatinib(site_a, f"P-B-{number}").id for number in range(5)]
    progress = []

    # Three batches (2 + 2 + 1 patients) of the same fixed queries each.
    with django_assert_num_queries(3 * _batch_queries()):
        summary = patients_derive(patient_ids=ids, settings=SETTINGS, batch_size=2,
                                  progress=lambda done, total: progress.append((done, total)))

    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert (summary.patients, summary.lines, summary.assessments, summary.biopsies) == (5, 10, 10, 5)


def test_a_failing_derivation_writes_nothing_and_keeps_the_previous_results(site_a, stored_settings, monkeypatch):
    patient = _alectinib_then_lorlatinib(site_a)
    patients_derive(patient_ids=[patient.id])
    before = PatientDerivation.objects.get(patient=patient)
    PatientDerivation.objects.filter(pk=before.pk).update(is_stale=True)
    line_ids = list(LineDerivation.objects.filter(patient=patient).values_list("id", flat=True))

    def broken(record, settings):
        raise ValueError("a bug in a rule")

    monkeypatch.setattr(derivation.derive, "derive_patient", broken)
    with pytest.raises(ValueError), transaction.atomic():
        patients_derive(patient_ids=[patient.id])

    after = PatientDerivation.objects.get(patient=patient)
    assert (after.derived_at, after.is_stale) == (before.derived_at, True)
    assert list(LineDerivation.objects.filter(patient=patient).values_list("id", flat=True)) == line_ids


def test_ids_of_patients_that_no_longer_exist_are_skipped(site_a, stored_settings):
    patient = _alectinib_then_lorlatinib(site_a)

    summary = patients_derive(patient_ids=[patient.id, 987_654])

    assert summary.patients == 1
    assert PatientDerivation.objects.count() == 1


def test_no_patients_cost_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert patients_derive(patient_ids=[]) == DerivationSummary()


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(ValueError, match="batch_size"):
        patients_derive(patient_ids=[1], batch_size=0)


def test_the_deletes_never_collect_rows_first(site_a, stored_settings):
    patient = _alectinib_then_lorlatinib(site_a)
    patients_derive(patient_ids=[patient.id])

    with CaptureQueriesContext(connection) as captured:
        patients_derive(patient_ids=[patient.id], settings=SETTINGS)

    tables = ("registry_linederivation", "registry_assessmentderivation", "registry_biopsyderivation")
    touching = [query["sql"] for query in captured.captured_queries if any(table in query["sql"] for table in tables)]
    deletes = ["WITH"] if connection.vendor == "postgresql" else ["DELETE"] * 3
    inserts = ["COPY"] * 3 if connection.vendor == "postgresql" else ["INSERT"] * 3
    assert [_statement(sql) for sql in touching] == deletes + inserts
    # No SELECT of the rows to delete, and each table's rows deleted by the patient
    for table in tables:
        assert sum(f'DELETE FROM "{table}" WHERE' in sql for sql in touching) == 1
