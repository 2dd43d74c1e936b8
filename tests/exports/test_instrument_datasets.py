"""Raw records as one dataset per instrument: REDCap's columns and raw codes, one row per instance."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from registry.services.records import records_export
from tests import factories
from tests.exports.exported import export_records, export_rows


def test_a_repeating_form_has_the_instance_number_its_fields_with_checkbox_columns_its_status_and_site(db, tmp_path):
    header, *_ = export_rows(tmp_path, "tumor_assessment")

    # The dictionary's tumor_assessment fields in order; ta_scope and ta_new_sites are checkboxes.
    assert header == [
        "record_id", "redcap_repeat_instance", "ta_date",
        "ta_scope___1", "ta_scope___2", "ta_scope___3", "ta_scope___4", "ta_scope___5",
        "ta_nontarget", "ta_new_lesion",
        *(f"ta_new_sites___{code}" for code in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99)),
        "ta_new_count", "ta_symptoms", "ta_neuro_symptoms", "ta_reported", "tumor_assessment_complete", "site",
    ]


def test_a_form_of_the_record_itself_has_one_row_per_patient_without_an_instance(db, tmp_path):
    header, *_ = export_rows(tmp_path, "vital_status")

    assert header == ["record_id", "last_alive_date", "vital", "death_date", "death_cause", "vital_status_complete",
                      "site"]


def test_values_are_the_raw_codes_and_name_what_the_flat_format_names(site_a, tmp_path):
    patient = factories.make_patient(site_a, "R-1", mrn="H-991", birth_date=date(1958, 2, 14), sex=1,
                                     alk_method_2=True, alk_method_3=True)
    assessment = factories.make_assessment(patient, date(2021, 4, 6), ta_scope_1=True, ta_scope_2=True,
                                           ta_new_lesion=1, ta_new_sites_3=True, ta_new_count=2)
    lesion = factories.make_lesion(patient, "L1-T2", les_site=8)
    factories.make_measurement(assessment, lesion, lm_mm=Decimal("18.50"))
    factories.make_variant(factories.make_biopsy(patient, date(2021, 5, 2)), var_vaf=Decimal("12.500"))

    enrollment, = export_records(tmp_path, "enrollment")
    measurement, = export_records(tmp_path, "lesion_measurement")
    variant, = export_records(tmp_path, "ngs_variant")
    scan, = export_records(tmp_path, "tumor_assessment")

    assert (enrollment["mrn"], enrollment["birth_date"], enrollment["sex"]) == ("H-991", "1958-02-14", "1")
    # FISH and tissue NGS ticked (codes 2 and 3), the others written 0, never blank.
    assert [enrollment[f"alk_method___{code}"] for code in range(1, 6)] == ["0", "1", "1", "0", "0"]
    assert enrollment["site"] == "site-a"
    # A measurement names its assessment by date and its lesion by identifier, as REDCap does.
    assert (measurement["lm_date"], measurement["lm_lesion"], measurement["lm_status"], measurement["lm_mm"]) == (
        "2021-04-06", "L1-T2", "1", "18.5",
    )
    assert (variant["var_bx_date"], variant["var_gene"], variant["var_protein"], variant["var_vaf"]) == (
        "2021-05-02", "ALK", "G1202R", "12.5",
    )
    assert (scan["ta_scope___1"], scan["ta_scope___2"], scan["ta_scope___3"], scan["ta_new_sites___3"],
            scan["ta_new_count"]) == ("1", "1", "0", "1", "2")


@pytest.mark.parametrize("form", ["enrollment", "treatment_line", "local_therapy", "tumor_assessment", "lesion",
                                  "lesion_measurement", "biopsy", "ngs_variant", "vital_status"])
def test_every_cell_equals_the_redcap_flat_export_of_the_same_records(site_a, site_b, tmp_path, form):
    for record_id, site in (("B-2", site_b), ("A-1", site_a), ("A-3", site_a)):
        factories.make_full_patient(site, record_id)
    flat = io.StringIO()
    records_export(output=flat)
    flat_rows = list(csv.DictReader(io.StringIO(flat.getvalue())))

    records = export_records(tmp_path, form)

    if form in ("enrollment", "vital_status"):
        expected = [row for row in flat_rows if not row["redcap_repeat_instrument"]]
    else:
        expected = [row for row in flat_rows if row["redcap_repeat_instrument"] == form]
    assert len(records) == len(expected) == 3
    for record, row in zip(records, expected, strict=True):
        assert {name: value for name, value in record.items() if name != "site"} == {
            name: row[name] for name in record if name != "site"
        }
    assert [record["site"] for record in records] == ["site-a", "site-a", "site-b"]
