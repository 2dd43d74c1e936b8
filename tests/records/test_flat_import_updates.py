"""Upserts by (record, instrument, instance): what a blank cell means, what the audit trail says."""
import io
from datetime import date

from registry.models import LesionMeasurement, Patient, TreatmentLine
from registry.records import flat_import
from registry.services.records import InstanceChange, records_export, records_import
from tests import factories
from tests.records.flat_files import EMPTY, EVERY_INSTRUMENT_CSV, instance_row, record_row, row_counts, write_csv


def _stored_patient(site):
    return factories.make_patient(site, "A-1", mrn="MRN-1", smoking=1, histology=1)


def test_a_blank_cell_keeps_the_stored_value_by_default(site_a, tmp_path):
    _stored_patient(site_a)
    path = write_csv(tmp_path, "update.csv", [record_row("A-1", mrn="MRN-2", smoking="")])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    patient = Patient.objects.get(record_id="A-1")
    assert (patient.mrn, patient.smoking, patient.histology) == ("MRN-2", 1, 1)
    assert result.updated["enrollment"] == 1
    assert result.changes == [InstanceChange("A-1", "enrollment", None, "update", {"mrn": ("MRN-1", "MRN-2")})]


def test_overwrite_erases_stored_values_with_blank_cells_but_not_columns_the_file_lacks(site_a, tmp_path):
    _stored_patient(site_a)
    path = write_csv(tmp_path, "update.csv", [record_row("A-1", mrn="MRN-2", smoking="")])

    result = records_import(source=path, file_format="csv", site=site_a, user=None, overwrite_behavior="overwrite")

    patient = Patient.objects.get(record_id="A-1")
    assert (patient.mrn, patient.smoking, patient.histology) == ("MRN-2", None, 1)
    assert result.changes == [InstanceChange(
        "A-1", "enrollment", None, "update", {"mrn": ("MRN-1", "MRN-2"), "smoking": ("1", "")},
    )]


def test_overwrite_cannot_erase_a_required_field(site_a, tmp_path):
    _stored_patient(site_a)
    counts_before = row_counts()
    path = write_csv(tmp_path, "update.csv", [record_row("A-1", sex="")])

    result = records_import(source=path, file_format="csv", site=site_a, user=None, overwrite_behavior="overwrite")

    assert [(p.line, p.field, p.reason) for p in result.problems] == [(2, "sex", "is required but is blank")]
    assert Patient.objects.get(record_id="A-1").sex == 2
    assert row_counts() == counts_before


def test_an_update_is_audited_with_the_user_and_the_file_and_sets_the_time_of_change(site_a, coordinator_a, tmp_path):
    patient = _stored_patient(site_a)
    before = Patient.objects.get(pk=patient.pk).updated_at
    path = write_csv(tmp_path, "update.csv", [record_row("A-1", mrn="MRN-2")])

    records_import(source=path, file_format="csv", site=site_a, user=coordinator_a, door="admin upload")

    latest = Patient.history.filter(record_id="A-1").latest("history_id")
    assert (latest.history_type, latest.history_user, latest.history_change_reason, latest.mrn) == (
        "~", coordinator_a, "admin upload: update.csv", "MRN-2",
    )
    assert Patient.objects.get(pk=patient.pk).updated_at > before


def test_new_instances_are_audited_as_created_by_the_import(site_a, coordinator_a):
    records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=coordinator_a)

    assert set(TreatmentLine.history.values_list("history_type", "history_user", "history_change_reason")) == {
        ("+", coordinator_a.pk, "import: redcap_every_instrument.csv"),
    }
    assert TreatmentLine.history.count() == 6


def test_only_the_changed_instance_gets_an_update_and_an_audit_row(site_a, tmp_path):
    records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None)
    counts_before = row_counts()
    text = EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")
    changed = text.replace(",2021-08-09,L1-T1,1,12.5,1,", ",2021-08-09,L1-T1,1,11,1,")
    assert changed != text
    path = tmp_path / "changed.csv"
    path.write_text(changed, encoding="utf-8")

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.updated == {**dict.fromkeys(result.updated, 0), "lesion_measurement": 1}
    assert result.changes == [InstanceChange("EX-003", "lesion_measurement", 2, "update", {"lm_mm": ("12.5", "11")})]
    one_more = counts_before["LesionMeasurement history"] + 1
    assert row_counts() == {**counts_before, "LesionMeasurement history": one_more}
    assert LesionMeasurement.objects.get(patient__record_id="EX-003", redcap_repeat_instance=2).lm_mm == 11


def test_a_dry_run_reports_what_would_change_and_writes_nothing(site_a):
    result = records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None, dry_run=True,
                            max_changes=2)

    assert (result.dry_run, result.ok) == (True, True)
    assert result.created["lesion_measurement"] == 11
    assert len(result.changes) == 2
    assert result.changes[1] == InstanceChange("EX-001", "vital_status", None, "create", {
        "last_alive_date": ("", "2023-11-20"), "vital": ("", "1"), "vital_status_complete": ("", "2"),
    })
    assert result.changes_truncated is True
    assert row_counts() == EMPTY


def test_rows_may_come_in_any_order(site_a, tmp_path):
    # Given the every-instrument file upside down: measurements and variants before what they name
    header, *rows = EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "reversed.csv"
    path.write_text(header + "".join(reversed(rows)), encoding="utf-8")

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.problems == []
    output = io.StringIO()
    records_export(output=output)
    assert output.getvalue() == EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")


def test_an_import_in_small_chunks_stores_the_same_records(site_a, monkeypatch):
    monkeypatch.setattr(flat_import, "CHUNK_ROWS", 2)

    result = records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None)

    assert result.problems == []
    output = io.StringIO()
    records_export(output=output)
    assert output.getvalue() == EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")


def test_a_measurement_may_name_an_assessment_and_lesion_stored_before_the_import(site_a, tmp_path):
    patient = factories.make_patient(site_a, "A-1")
    assessment = factories.make_assessment(patient, ta_date=date(2020, 3, 4))
    lesion = factories.make_lesion(patient, "L1-T1")
    path = write_csv(tmp_path, "m.csv", [instance_row(
        "A-1", "lesion_measurement", 1, lm_date="2020-03-04", lm_lesion="L1-T1", lm_status="1", lm_mm="20.5",
    )])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.created["lesion_measurement"] == 1
    measurement = LesionMeasurement.objects.get(patient=patient)
    assert (measurement.assessment, measurement.lesion, str(measurement.lm_mm)) == (assessment, lesion, "20.50")


def test_a_file_may_renumber_a_line_and_move_a_measurement_to_another_assessment(site_a, tmp_path):
    patient = factories.make_patient(site_a, "A-1")
    factories.make_line(patient, line_no=1)
    first = factories.make_assessment(patient, ta_date=date(2020, 3, 4))
    factories.make_assessment(patient, ta_date=date(2020, 6, 1))
    factories.make_measurement(first, factories.make_lesion(patient, "L1"))
    path = write_csv(tmp_path, "move.csv", [
        instance_row("A-1", "treatment_line", 1, line_no="2"),
        instance_row("A-1", "lesion_measurement", 1, lm_date="2020-06-01"),
    ])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert result.changes == [
        InstanceChange("A-1", "treatment_line", 1, "update", {"line_no": ("1", "2")}),
        InstanceChange("A-1", "lesion_measurement", 1, "update", {"lm_date": ("2020-03-04", "2020-06-01")}),
    ]
    assert TreatmentLine.objects.get(patient=patient).line_no == 2
    assert LesionMeasurement.objects.get(patient=patient).assessment.ta_date == date(2020, 6, 1)
