"""The shared example records (every instrument) survive import and export unchanged."""
import csv
import io
import json
from datetime import date
from decimal import Decimal

from registry.models import LesionMeasurement, NgsVariant, Patient, TreatmentLine
from registry.services.records import records_export, records_import
from tests.records.flat_files import EVERY_INSTRUMENT_CSV, RECORD_MODELS, row_counts

CREATED = {
    "enrollment": 4, "treatment_line": 6, "local_therapy": 2, "tumor_assessment": 11, "lesion": 4,
    "lesion_measurement": 11, "biopsy": 3, "ngs_variant": 5, "vital_status": 3,
}
NONE = dict.fromkeys(CREATED, 0)


def _export(**options) -> str:
    output = io.StringIO()
    records_export(output=output, **options)
    return output.getvalue()


def _import_fixture(site, **options):
    return records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site, user=None, **options)


def test_importing_the_example_file_into_an_empty_registry_then_exporting_gives_the_same_bytes(site_a):
    result = _import_fixture(site_a)

    assert result.problems == []
    assert result.created == CREATED
    assert result.rows_read == 46
    assert _export() == EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")


def test_imported_values_are_stored_as_the_clinical_values_they_code(site_a):
    _import_fixture(site_a)

    ex2 = Patient.objects.get(record_id="EX-002")
    assert (ex2.site, ex2.vital, ex2.death_date, ex2.death_cause) == (site_a, 2, date(2022, 4, 30), 1)
    assert Patient.objects.get(record_id="ex-004").vital_status_complete is None
    other = TreatmentLine.objects.get(patient__record_id="EX-003")
    assert (other.line_drug, other.line_drug_other, other.line_tki_generation) == (
        99, 'Investigational ALK inhibitor, trial "ALK-301"', 3,
    )
    measurement = LesionMeasurement.objects.get(patient__record_id="EX-003", redcap_repeat_instance=2)
    assert (measurement.assessment.ta_date, measurement.lesion.les_id, measurement.lm_mm) == (
        date(2021, 8, 9), "L1-T1", Decimal("12.5"),
    )
    assert NgsVariant.objects.get(patient__record_id="EX-001").biopsy.bx_date == date(2022, 1, 25)


def test_an_export_imported_into_another_empty_registry_exports_identically(site_a):
    _import_fixture(site_a)
    exported = _export()
    Patient.objects.all().delete()  # another, empty registry: no records, no audit trail
    for model in RECORD_MODELS:
        model.history.all().delete()
    source = io.BytesIO(exported.encode("utf-8"))

    result = records_import(source=source, file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert result.created == CREATED
    assert _export() == exported


def test_reimporting_the_same_file_changes_nothing(site_a):
    _import_fixture(site_a)
    counts_before = row_counts()
    stamps_before = list(Patient.objects.order_by("record_id").values_list("updated_at", flat=True))

    result = _import_fixture(site_a)

    assert result.problems == []
    assert (result.created, result.updated) == (NONE, NONE)
    assert result.unchanged == CREATED
    assert result.changes == []
    assert row_counts() == counts_before
    assert list(Patient.objects.order_by("record_id").values_list("updated_at", flat=True)) == stamps_before


def test_a_json_import_of_the_same_records_gives_the_same_registry(site_a):
    # Given the fixture as REDCap's JSON: a list of objects with string values, blanks included
    with EVERY_INSTRUMENT_CSV.open(newline="", encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    items[1]["line_no"] = 1  # REDCap sends strings, but numbers and null are accepted too
    items[1]["line_end_reason"] = None
    items[1]["line_end"] = None
    source = io.BytesIO(json.dumps(items).encode("utf-8"))

    result = records_import(source=source, file_format="json", site=site_a, user=None, overwrite_behavior="normal")

    assert result.problems == []
    assert result.created == CREATED
    expected = EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8").replace(
        "EX-001,treatment_line,1,,,,,,,,,,,,,,,,,1,1,2,,,2020-03-10,2022-01-18,1,",
        "EX-001,treatment_line,1,,,,,,,,,,,,,,,,,1,1,2,,,2020-03-10,,,",
    )
    assert _export() == expected


def test_a_json_export_holds_every_column_as_text_and_imports_back(site_a):
    _import_fixture(site_a)

    exported = _export(file_format="json")

    items = json.loads(exported)
    assert len(items) == 46
    assert items[0]["record_id"] == "EX-001"
    assert {type(value) for item in items for value in item.values()} == {str}
    measurement = next(item for item in items if item["redcap_repeat_instrument"] == "lesion_measurement"
                       and item["record_id"] == "EX-003" and item["redcap_repeat_instance"] == "2")
    assert (measurement["lm_date"], measurement["lm_lesion"], measurement["lm_mm"], measurement["mrn"]) == (
        "2021-08-09", "L1-T1", "12.5", "",
    )
    Patient.objects.all().delete()
    result = records_import(source=io.BytesIO(exported.encode()), file_format="json", site=site_a, user=None)
    assert result.created == CREATED
    assert _export() == EVERY_INSTRUMENT_CSV.read_text(encoding="utf-8")
