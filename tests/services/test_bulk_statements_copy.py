"""registry/services/bulk_statements.py: the rows written, whichever statement writes them (a binary
COPY on PostgreSQL, INSERTs on SQLite), their ids in the order of the rows, and their audit trail."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction

from registry.models import Patient, PatientDerivation
from registry.services.bulk_statements import create_with_history, insert_rows
from tests import factories

on_postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the COPY path is PostgreSQL's; SQLite keeps its INSERTs and does not enforce a varchar's length",
)

DERIVATION_COLUMNS = ("patient", "rules_version", "settings_snapshot", "data_cutoff", "derived_at", "is_stale",
                      "tki_sequence", "index_pd_date", "os_dx_days", "os_dx_months", "os_dx_event", "flags",
                      "flag_count", "alk_mut_status_at_index", "os_dx_censor_reason", "flag_codes")


def _derivation_row(patient_id: int, *, tki_sequence: str = "alectinib>lorlatinib") -> tuple:
    return (
        patient_id, 3, {"data_cutoff": "2024-06-30", "sites": ["a", "é"], "weight": 2.5, "none": None},
        date(2024, 6, 30), datetime(2024, 7, 1, 8, 30, tzinfo=UTC), False, tki_sequence, None, None,
        Decimal("12.5"), None, [{"code": "response_discrepancy", "date": "2021-02-03"}], 1, "", "alive",
        "response_discrepancy",
    )


# What the row above reads back as, written out by hand: the JSON as given (jsonb keeps its values,
# not its key order), the Decimal at the column's 6 decimal places, the Nones as NULL.
EXPECTED = {
    "rules_version": 3,
    "settings_snapshot": {"data_cutoff": "2024-06-30", "none": None, "sites": ["a", "é"], "weight": 2.5},
    "data_cutoff": date(2024, 6, 30), "derived_at": datetime(2024, 7, 1, 8, 30, tzinfo=UTC), "is_stale": False,
    "tki_sequence": "alectinib>lorlatinib", "index_pd_date": None, "os_dx_days": None,
    "os_dx_months": Decimal("12.500000"), "os_dx_event": None,
    "flags": [{"code": "response_discrepancy", "date": "2021-02-03"}], "flag_count": 1,
    "alk_mut_status_at_index": "", "os_dx_censor_reason": "alive", "flag_codes": "response_discrepancy",
}


@on_postgresql_only
@pytest.mark.django_db
def test_copy_writes_json_decimals_dates_and_nulls_as_the_unnest_insert_does(site_a):
    by_copy, by_insert = factories.make_patient(site_a, "P-COPY"), factories.make_patient(site_a, "P-INSERT")

    # The same values, once through the COPY (a plain insert) and once through INSERT ... unnest
    # (the upsert, which keeps that statement)
    insert_rows(PatientDerivation, DERIVATION_COLUMNS, [_derivation_row(by_copy.pk)])
    insert_rows(PatientDerivation, DERIVATION_COLUMNS, [_derivation_row(by_insert.pk)], upsert_on="patient")

    stored = {row.pop("patient_id"): row for row in PatientDerivation.objects.values("patient_id", *EXPECTED)}
    assert stored[by_copy.pk] == EXPECTED
    assert stored[by_insert.pk] == EXPECTED


@on_postgresql_only
@pytest.mark.django_db
def test_a_value_too_long_for_its_column_is_refused_not_truncated_and_nothing_is_written(site_a):
    patients = [factories.make_patient(site_a, f"P-{number}") for number in range(2)]
    rows = [_derivation_row(patients[0].pk), _derivation_row(patients[1].pk, tki_sequence="x" * 201)]  # max 200

    with pytest.raises(DataError, match="too long"), transaction.atomic():
        insert_rows(PatientDerivation, DERIVATION_COLUMNS, rows)

    assert not PatientDerivation.objects.exists()


@on_postgresql_only
@pytest.mark.django_db
def test_a_refused_value_leaves_neither_rows_nor_history_nor_reserved_ids_in_use(site_a):
    too_long = Patient(site=site_a, record_id="R-" + "9" * 200, sex=2, adv_dx_date=date(2020, 1, 1), histology=1)

    with pytest.raises(DataError), transaction.atomic():
        create_with_history(Patient, [Patient(site=site_a, record_id="R-1", sex=2, adv_dx_date=date(2020, 1, 1),
                                              histology=1), too_long], user=None, change_reason="test")

    assert not Patient.objects.exists() and not Patient.history.exists()


@pytest.mark.django_db
def test_the_ids_answered_follow_the_rows_and_every_row_has_its_history_row(site_a):
    # Given patients in an order that is not the order of their record IDs
    record_ids = ["R-3", "R-1", "R-2", "R-5", "R-4"]
    patients = [Patient(site=site_a, record_id=record_id, sex=2, adv_dx_date=date(2020, 1, 1), histology=1)
                for record_id in record_ids]
    written_at = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)

    create_with_history(Patient, patients, user=None, change_reason="test batch", date=written_at)

    # Then each instance has the id of the row holding its record ID
    assert dict(Patient.objects.values_list("pk", "record_id")) == {
        patient.pk: record_id for patient, record_id in zip(patients, record_ids)}
    assert all(patient.site_id == site_a.pk for patient in Patient.objects.all())
    # and one "+" history row each, dated and explained as asked, holding what the table holds
    history = list(Patient.history.values_list("id", "record_id", "history_type", "history_change_reason",
                                                "history_date"))
    assert sorted(history) == sorted((patient.pk, record_id, "+", "test batch", written_at)
                                     for patient, record_id in zip(patients, record_ids))


@pytest.mark.django_db
def test_children_take_the_ids_of_parents_written_just_before_them(site_a):
    from registry.models import TreatmentLine

    patient = Patient(site=site_a, record_id="R-PARENT", sex=2, adv_dx_date=date(2020, 1, 1), histology=1)
    line = TreatmentLine(patient=patient, redcap_repeat_instance=1, line_no=1, line_type=1, line_drug=2,
                         line_start=date(2020, 2, 1))

    create_with_history(Patient, [patient], user=None, change_reason="test")
    create_with_history(TreatmentLine, [line], user=None, change_reason="test")

    assert TreatmentLine.objects.get().patient_id == patient.pk == Patient.objects.get().pk
    assert line.patient is patient  # the instance given stays the cached parent
