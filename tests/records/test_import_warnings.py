"""The flat import, its command and the instrument spreadsheets accept a value a soft check asks about
(a date in the future, a value outside the dictionary's range), write it and report the check as a
warning; a value of the wrong type is still refused and nothing is written."""
import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from tablib import Dataset

from registry.models import NgsVariant, Patient, TreatmentLine
from registry.records.soft_checks import FUTURE_DATE, OUTSIDE_RANGE
from registry.records.spreadsheets import NgsVariantResource
from registry.services.records import records_import
from tests import factories
from tests.records.flat_files import instance_row, record_row, row_counts, write_csv

FUTURE = (timezone.localdate() + timedelta(days=30)).isoformat()
LINE = {"line_type": "1", "line_drug": "2", "line_start": "2021-01-10"}


def warning_keys(warnings):
    return {(w.record, w.form, w.instance, w.field, w.value, w.check) for w in warnings}


def test_the_flat_import_writes_a_future_date_and_a_line_number_below_the_minimum_and_warns(site_a, tmp_path):
    rows = [
        record_row("W-1", sex="1", adv_dx_date=FUTURE),
        instance_row("W-1", "treatment_line", 1, line_no="0", **LINE),  # the dictionary's minimum is 1
    ]

    result = records_import(source=write_csv(tmp_path, "w.csv", rows), file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert warning_keys(result.warnings) == {
        ("W-1", "enrollment", None, "adv_dx_date", FUTURE, FUTURE_DATE),
        ("W-1", "treatment_line", 1, "line_no", "0", OUTSIDE_RANGE),
    }
    assert str(Patient.objects.get(record_id="W-1").adv_dx_date) == FUTURE
    assert TreatmentLine.objects.get(patient__record_id="W-1").line_no == 0


def test_a_dry_run_warns_as_the_import_would_and_writes_nothing(site_a, tmp_path):
    before = row_counts()
    rows = [record_row("W-2", sex="1", adv_dx_date=FUTURE)]

    result = records_import(source=write_csv(tmp_path, "w.csv", rows), file_format="csv", site=site_a, user=None,
                            dry_run=True)

    assert [w.check for w in result.warnings] == [FUTURE_DATE]
    assert row_counts() == before


def test_a_confirmed_value_is_not_warned_about_again(site_a, tmp_path):
    patient = factories.make_patient(site_a, "W-3")
    patient.soft_check_confirmations.create(form="treatment_line", instance=1, field="line_no", check_code=OUTSIDE_RANGE,
                                            value="0", door="workspace")
    rows = [record_row("W-3"), instance_row("W-3", "treatment_line", 1, line_no="0", **LINE)]

    result = records_import(source=write_csv(tmp_path, "w.csv", rows), file_format="csv", site=site_a, user=None)

    assert result.problems == [] and result.warnings == []


def test_a_value_of_the_wrong_type_is_still_refused_and_nothing_is_written(site_a, tmp_path):
    before = row_counts()
    rows = [record_row("W-4", sex="1", adv_dx_date=FUTURE),
            instance_row("W-4", "treatment_line", 1, line_no="one", **LINE)]

    result = records_import(source=write_csv(tmp_path, "w.csv", rows), file_format="csv", site=site_a, user=None)

    assert [(p.field, p.reason) for p in result.problems] == [("line_no", "is not a whole number")]
    assert result.warnings == []
    assert row_counts() == before


def test_the_import_command_prints_the_warnings(site_a, tmp_path):
    path = write_csv(tmp_path, "w.csv", [record_row("W-5", sex="1", adv_dx_date=FUTURE)])
    output = io.StringIO()

    call_command("import_records", str(path), "--site", site_a.code, stdout=output)

    printed = output.getvalue()
    assert "1 value(s) accepted with a warning" in printed
    assert f"W-5\tenrollment\t\tadv_dx_date\t{FUTURE}\t{FUTURE_DATE}\t" in printed
    assert Patient.objects.filter(record_id="W-5").exists()


def test_a_spreadsheet_of_variants_writes_a_vaf_above_100_and_warns(site_a):
    patient = factories.make_patient(site_a, "W-6")
    factories.make_biopsy(patient)  # 2022-01-25
    dataset = Dataset().load(
        "record_id,var_bx_date,var_gene,var_kind,var_protein,var_partner,var_vaf\nW-6,2022-01-25,ALK,1,G1202R,,101\n",
        format="csv")

    result = NgsVariantResource().import_data(dataset, dry_run=False)

    assert not result.has_errors() and not result.has_validation_errors()
    assert warning_keys(result.soft_check_warnings) == {("W-6", "ngs_variant", 1, "var_vaf", "101", OUTSIDE_RANGE)}
    assert str(NgsVariant.objects.get(patient=patient).var_vaf) == "101.000"
