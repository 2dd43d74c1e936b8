"""Per-instrument spreadsheets: NGS variants from a laboratory, vital status from a site."""
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import tablib
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import NgsVariant, Patient
from registry.records.spreadsheets import NgsVariantResource, VitalStatusResource, cell_text, spreadsheet_problems
from tests import factories

SAMPLES = Path(settings.BASE_DIR) / "fixtures" / "spreadsheets"
VARIANT_COLUMNS = (
    "record_id", "var_bx_date", "var_gene", "var_kind", "var_protein", "var_vaf", "var_cn", "var_partner",
    "ngs_variant_complete",
)
VITAL_COLUMNS = ("record_id", "last_alive_date", "vital", "death_date", "death_cause", "vital_status_complete")


def csv_dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def as_xlsx(dataset: tablib.Dataset) -> tablib.Dataset:
    """The dataset written to an Excel file and read back, as the admin reads an upload."""
    return tablib.Dataset().load(dataset.export("xlsx"), format="xlsx")


def history_rows() -> int:
    return NgsVariant.history.count() + Patient.history.count()


def stored_variants(patient: Patient) -> list[tuple]:
    return list(
        NgsVariant.objects.filter(patient=patient).order_by("redcap_repeat_instance").values_list(
            "redcap_repeat_instance", "biopsy__bx_date", "var_gene", "var_kind", "var_protein", "var_vaf",
            "var_cn", "var_partner", "ngs_variant_complete",
        )
    )


def stored_vital_status() -> list[tuple]:
    return list(Patient.objects.order_by("record_id").values_list(*VITAL_COLUMNS))


@pytest.fixture
def patient_a1(site_a):
    """Site A; two biopsies; ALK G1202R (VAF 5.2 %) already stored as instance 1 on the first."""
    patient = factories.make_patient(site_a, "P-A1", birth_date=date(1960, 5, 1), vital=1)
    first = factories.make_biopsy(patient, date(2022, 1, 25))
    factories.make_biopsy(patient, date(2023, 3, 10))
    factories.make_variant(first, var_vaf=Decimal("5.200"))
    return patient


@pytest.fixture
def patient_a2(site_a):
    patient = factories.make_patient(site_a, "P-A2", birth_date=date(1971, 2, 3))
    factories.make_biopsy(patient, date(2021, 7, 1))
    return patient


@pytest.fixture
def patient_b1(site_b):
    patient = factories.make_patient(site_b, "P-B1", birth_date=date(1955, 9, 9), vital=1)
    factories.make_variant(factories.make_biopsy(patient, date(2022, 2, 2)), var_gene="EGFR", var_protein="L858R")
    return patient


@pytest.mark.parametrize(("cell", "text"), [
    (None, ""),
    (" ALK ", "ALK"),
    (datetime(2022, 1, 25), "2022-01-25"),  # an Excel date cell
    (datetime(2022, 1, 25, 10, 30), "2022-01-25 10:30:00"),  # kept whole, so the date codec refuses it
    (date(2022, 1, 25), "2022-01-25"),
    (1, "1"),
    (1.0, "1"),
    (12.5, "12.5"),
    (0.00005, "0.00005"),  # str() would give "5e-05", which no number codec reads
    (Decimal("8.40"), "8.4"),
])
def test_excel_cells_become_the_text_a_csv_file_would_hold(cell, text):
    assert cell_text(cell) == text


NEW_VARIANTS_CSV = """\
record_id,var_bx_date,var_gene,var_kind,var_protein,var_vaf,var_cn,var_partner,ngs_variant_complete
P-A1,2023-03-10,ALK,1,p.Gly1202Arg,12.50,,,2
P-A1,2023-03-10,MET,2,,,8.4,,2
P-A2,2021-07-01,ALK,3,,,,EML4,1
"""

# What NEW_VARIANTS_CSV adds: P-A1 already has instance 1, so its two new variants are 2 and 3.
P_A1_AFTER_NEW_VARIANTS = [
    (1, date(2022, 1, 25), "ALK", 1, "G1202R", Decimal("5.200"), None, "", 0),
    (2, date(2023, 3, 10), "ALK", 1, "p.Gly1202Arg", Decimal("12.500"), None, "", 2),
    (3, date(2023, 3, 10), "MET", 2, "", None, Decimal("8.40"), "", 2),
]
P_A2_AFTER_NEW_VARIANTS = [(1, date(2021, 7, 1), "ALK", 3, "", None, None, "EML4", 1)]


def test_csv_import_creates_variants_with_the_next_instance_numbers(patient_a1, patient_a2, administrator):
    result = NgsVariantResource(user=administrator).import_data(csv_dataset(NEW_VARIANTS_CSV), dry_run=False)

    assert spreadsheet_problems(result) == []
    assert (result.totals["new"], result.totals["update"]) == (3, 0)
    assert stored_variants(patient_a1) == P_A1_AFTER_NEW_VARIANTS
    assert stored_variants(patient_a2) == P_A2_AFTER_NEW_VARIANTS


def test_xlsx_import_reads_excel_dates_and_numbers_as_their_text(patient_a1, patient_a2):
    # Typed in Excel, dates are date cells and numbers are numeric cells, not text.
    typed_in_excel = tablib.Dataset(headers=VARIANT_COLUMNS)
    typed_in_excel.append(["P-A1", datetime(2023, 3, 10), "ALK", 1, "p.Gly1202Arg", 12.5, None, None, 2])
    typed_in_excel.append(["P-A1", datetime(2023, 3, 10), "MET", 2.0, None, None, 8.4, None, 2])
    typed_in_excel.append(["P-A2", datetime(2021, 7, 1), "ALK", 3, None, None, None, "EML4", 1])

    result = NgsVariantResource().import_data(as_xlsx(typed_in_excel), dry_run=False)

    assert spreadsheet_problems(result) == []
    assert stored_variants(patient_a1) == P_A1_AFTER_NEW_VARIANTS
    assert stored_variants(patient_a2) == P_A2_AFTER_NEW_VARIANTS


def test_a_row_updates_the_stored_variant_with_the_same_normalised_protein_change(patient_a1):
    # p.Gly1202Arg is the stored G1202R (derivation rules §7); a blank VAF clears the stored 5.2.
    file = csv_dataset(
        "record_id,var_bx_date,var_gene,var_kind,var_protein,var_vaf,var_cn,var_partner,ngs_variant_complete\n"
        "P-A1,2022-01-25,alk,1,p.Gly1202Arg,,,,2\n"
    )

    result = NgsVariantResource().import_data(file, dry_run=False)

    assert spreadsheet_problems(result) == []
    assert (result.totals["new"], result.totals["update"]) == (0, 1)
    assert stored_variants(patient_a1) == [(1, date(2022, 1, 25), "alk", 1, "p.Gly1202Arg", None, None, "", 2)]


def test_variant_export_writes_raw_codes_and_shortest_decimals(patient_a1, patient_a2):
    NgsVariant.objects.filter(patient=patient_a1).update(var_cn=Decimal("3.00"))

    exported = NgsVariantResource().export()

    assert exported.headers == list(VARIANT_COLUMNS)
    assert exported[0] == ("P-A1", "2022-01-25", "ALK", "1", "G1202R", "5.2", "3", "", "0")


def test_xlsx_export_imports_back_unchanged_without_history_rows(patient_a1, patient_a2, patient_b1):
    NgsVariantResource().import_data(csv_dataset(NEW_VARIANTS_CSV), dry_run=False)
    before = (list(NgsVariant.objects.values_list("pk", "updated_at")), history_rows())

    variants = NgsVariantResource().import_data(as_xlsx(NgsVariantResource().export()), dry_run=False)
    vital = VitalStatusResource().import_data(as_xlsx(VitalStatusResource().export()), dry_run=False)

    assert spreadsheet_problems(variants) == [] and spreadsheet_problems(vital) == []
    # 1 stored for P-A1 + 3 imported + 1 for P-B1; P-A1, P-A2 and P-B1.
    assert variants.totals["skip"] == 5 and vital.totals["skip"] == 3
    assert (list(NgsVariant.objects.values_list("pk", "updated_at")), history_rows()) == before


VITAL_UPDATE_CSV = """\
record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete
P-A1,2024-01-10,2,2024-02-01,1,2
P-A2,2024-03-05,1,,,1
"""


def test_vital_status_update_records_the_importing_user_and_reason(patient_a1, patient_a2, coordinator_a):
    result = VitalStatusResource(user=coordinator_a).import_data(csv_dataset(VITAL_UPDATE_CSV), dry_run=False)

    assert spreadsheet_problems(result) == []
    assert (result.totals["new"], result.totals["update"]) == (0, 2)
    stored = Patient.objects.order_by("record_id").values_list(*VITAL_COLUMNS, "birth_date")
    assert list(stored) == [
        ("P-A1", date(2024, 1, 10), 2, date(2024, 2, 1), 1, 2, date(1960, 5, 1)),
        ("P-A2", date(2024, 3, 5), 1, None, None, 1, date(1971, 2, 3)),
    ]
    latest = patient_a1.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (coordinator_a, "spreadsheet import")


def test_vital_status_import_never_creates_a_patient(patient_a1):
    file = csv_dataset(
        "record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete\nP-NEW,2024-01-10,1,,,2\n"
    )
    history_before = history_rows()

    result = VitalStatusResource().import_data(file, dry_run=False)

    assert spreadsheet_problems(result) == [
        (1, "P-NEW", "record_id", "P-NEW", "record P-NEW does not exist or is not at a site you can change"),
    ]
    assert list(Patient.objects.values_list("record_id", flat=True)) == ["P-A1"]
    assert history_rows() == history_before


BAD_VARIANTS_CSV = """\
record_id,var_bx_date,var_gene,var_kind,var_protein,var_vaf,var_cn,var_partner,ngs_variant_complete,lab_comment
P-A2,2021-07-01,ALK,3,,,,EML4,1,this row alone is fine
P-ZZ,2021-07-01,ALK,1,G1202R,3,,,2,
P-A1,2022-01-26,ALK,1,G1202R,3,,,2,
P-A1,2023-03-10,ALK,7,G1202R,3,,,2,
P-A1,2020-13-01,ALK,1,L1196M,3,,,2,
P-A1,2023-03-10,MET,2,Y1230C,,6,,2,
P-A2,2021-07-01,ALK,1,G1202R,1O1,,,2,
"""


def test_a_variant_file_with_bad_rows_lists_every_problem_and_writes_nothing(patient_a1, patient_a2, patient_b1):
    counts_before = (NgsVariant.objects.count(), history_rows())

    result = NgsVariantResource().import_data(csv_dataset(BAD_VARIANTS_CSV), dry_run=False)

    assert result.has_errors() and result.has_validation_errors()
    assert spreadsheet_problems(result) == [
        (0, "", "lab_comment", "", '"lab_comment" is not a column of this spreadsheet (the columns are '
         "record_id, var_bx_date, var_gene, var_kind, var_protein, var_vaf, var_cn, var_partner, "
         "ngs_variant_complete)"),
        (2, "P-ZZ", "record_id", "P-ZZ", "record P-ZZ does not exist or is not at a site you can change"),
        (3, "P-A1", "var_bx_date", "2022-01-26", "no biopsy of this patient is dated 2022-01-26"),
        (4, "P-A1", "var_kind", "7", '"7" is not a code of this field (1 Point mutation or small indel, '
         "2 Amplification, 3 Fusion, 4 Deletion / loss)"),
        (5, "P-A1", "var_bx_date", "2020-13-01", '"2020-13-01" is not a real calendar date'),
        (6, "P-A1", "var_protein", "Y1230C",
         "A protein change is recorded only for a point mutation or small indel."),
        # A VAF of 101% would be a soft check (accepted with a warning); "1O1" is not a number at all.
        (7, "P-A2", "var_vaf", "1O1", '"1O1" is not a number (digits with an optional decimal point)'),
    ]
    # Row 1 was valid on its own, but a file is imported whole or not at all.
    assert (NgsVariant.objects.count(), history_rows()) == counts_before


def test_a_vital_status_file_with_bad_rows_lists_every_problem_and_writes_nothing(patient_a1, patient_a2, site_a):
    factories.make_patient(site_a, "P-A3", vital=1)
    file = csv_dataset(
        "record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete\n"
        "P-A1,2024-01-10,2,1950-01-01,1,2\n"
        "P-A2,10/01/2024,4,,,2\n"
        "P-A3,2024-01-10,3,,,2\n"
    )
    before = (stored_vital_status(), history_rows())

    result = VitalStatusResource().import_data(file, dry_run=False)

    assert spreadsheet_problems(result) == [
        (1, "P-A1", "death_date", "1950-01-01",
         "The date of death (1950-01-01) cannot be before the date of birth (1960-05-01)."),
        (2, "P-A2", "last_alive_date", "10/01/2024", '"10/01/2024" is not a date in YYYY-MM-DD format'),
        (2, "P-A2", "vital", "4", '"4" is not a code of this field (1 Alive, 2 Dead, 3 Lost to follow-up)'),
    ]
    # Row 3 was valid on its own; validation errors alone roll the whole file back.
    assert not result.has_errors()
    assert (stored_vital_status(), history_rows()) == before


def test_the_same_variant_twice_in_one_file_is_an_error(patient_a2):
    file = csv_dataset(
        "record_id,var_bx_date,var_gene,var_kind,var_protein,var_vaf,var_cn,var_partner,ngs_variant_complete\n"
        "P-A2,2021-07-01,ALK,1,G1202R,3,,,2\n"
        "P-A2,2021-07-01,ALK,1,p.Gly1202Arg,4,,,2\n"
    )

    result = NgsVariantResource().import_data(file, dry_run=False)

    assert spreadsheet_problems(result) == [
        (2, "P-A2", "", "", "the same variant of the biopsy dated 2021-07-01 is also in row 1 of this file"),
    ]
    assert NgsVariant.objects.filter(patient=patient_a2).count() == 0


def test_a_file_without_an_identifying_column_is_refused(patient_a2):
    file = csv_dataset("record_id,var_gene,var_kind,var_protein,var_partner\nP-A2,ALK,3,,EML4\n")

    result = NgsVariantResource().import_data(file, dry_run=False)

    assert spreadsheet_problems(result) == [
        (0, "", "var_bx_date", "", 'the column "var_bx_date" is required'),
        (1, "P-A2", "var_bx_date", "",
         "the date of the biopsy is required to say which biopsy the variant is from"),
    ]
    assert NgsVariant.objects.filter(patient=patient_a2).count() == 0


def test_a_coordinator_cannot_import_into_another_sites_patients(patient_a1, patient_b1, coordinator_a):
    variants = csv_dataset(
        "record_id,var_bx_date,var_gene,var_kind,var_protein,var_vaf,var_cn,var_partner,ngs_variant_complete\n"
        "P-B1,2022-02-02,ALK,1,G1202R,3,,,2\n"
    )
    vital = csv_dataset(
        "record_id,last_alive_date,vital,death_date,death_cause,vital_status_complete\n"
        "P-B1,2024-01-10,2,2024-02-01,1,2\n"
    )
    before = (stored_variants(patient_b1), Patient.objects.filter(pk=patient_b1.pk).values().get(), history_rows())

    variant_result = NgsVariantResource(user=coordinator_a).import_data(variants, dry_run=False)
    vital_result = VitalStatusResource(user=coordinator_a).import_data(vital, dry_run=False)

    # The same words as for a record that does not exist: other sites' record IDs are not revealed.
    refused = (1, "P-B1", "record_id", "P-B1", "record P-B1 does not exist or is not at a site you can change")
    assert spreadsheet_problems(variant_result) == [refused]
    assert spreadsheet_problems(vital_result) == [refused]
    assert (stored_variants(patient_b1), Patient.objects.filter(pk=patient_b1.pk).values().get(),
            history_rows()) == before


def test_a_coordinator_exports_only_their_sites_records(patient_a1, patient_a2, patient_b1, coordinator_a):
    variants = NgsVariantResource(user=coordinator_a).export()
    vital = VitalStatusResource(user=coordinator_a).export()

    assert variants.dict == [{
        "record_id": "P-A1", "var_bx_date": "2022-01-25", "var_gene": "ALK", "var_kind": "1",
        "var_protein": "G1202R", "var_vaf": "5.2", "var_cn": "", "var_partner": "", "ngs_variant_complete": "0",
    }]
    assert vital.headers == list(VITAL_COLUMNS)
    assert vital.get_col(0) == ["P-A1", "P-A2"]


def test_variant_export_runs_a_fixed_number_of_queries(
    patient_a1, patient_a2, patient_b1, coordinator_a, django_assert_num_queries,
):
    factories.make_variant(patient_a2.biopsies.get(), var_gene="MET", var_kind=2, var_protein="")
    # 1 the coordinator's role, 2 their sites, 3 the variants with patient and biopsy joined.
    with django_assert_num_queries(3):
        exported = NgsVariantResource(user=coordinator_a).export()
    assert exported.get_col(0) == ["P-A1", "P-A2"]


def test_variant_import_fetches_the_named_records_once_whatever_the_number_of_rows(
    patient_a1, patient_a2, coordinator_a,
):
    with CaptureQueriesContext(connection) as captured:
        result = NgsVariantResource(user=coordinator_a).import_data(csv_dataset(NEW_VARIANTS_CSV), dry_run=False)
    statements = [query["sql"] for query in captured.captured_queries]
    # Savepoints (one per row, for the rollback) and PostgreSQL's sequence reset that django-import-export
    # runs after creating rows depend on the database, not on this code.
    queries = [
        sql for sql in statements
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT setval(pg_get_serial_sequence"))
    ]

    assert result.totals["new"] == 3
    # Once: the coordinator's role and sites, the named patients, the lock on their records and their
    # versions (records_lock, 2), the data locks in force on them (registry/selectors/locks.py), their
    # biopsies, their variants.
    # Per row, 5: full_clean() checks that the patient and the biopsy exist and that the instance number
    # is free (3), then the insert and its history row (2). After the import, once: the UPDATE marking
    # the patients' derived results stale (patients_changed), and the upsert of their records' versions;
    # and the soft checks of the variants written (registry/services/soft_checks.py written_warnings):
    # the variants with their patients, read back once (no check found: no confirmations read).
    assert len(queries) == 8 + 3 * 5 + 2 + 1


def test_dry_run_reports_the_rows_and_writes_nothing(patient_a1, patient_a2):
    before = (stored_variants(patient_a1), stored_variants(patient_a2), history_rows())

    result = NgsVariantResource().import_data(csv_dataset(NEW_VARIANTS_CSV), dry_run=True)

    assert spreadsheet_problems(result) == []
    assert result.totals["new"] == 3
    assert (stored_variants(patient_a1), stored_variants(patient_a2), history_rows()) == before


def test_the_sample_spreadsheets_import_into_the_example_records(site_a):
    # The example records' patients (fixtures/example_records.csv), with EX-002's two stored variants.
    ex_001 = factories.make_patient(site_a, "EX-001", birth_date=date(1965, 6, 15), vital=1)
    factories.make_biopsy(ex_001, date(2022, 1, 25), bx_specimen=2)
    ex_002 = factories.make_patient(site_a, "EX-002", birth_date=date(1965, 6, 15), sex=1)
    ex_002_biopsy = factories.make_biopsy(ex_002, date(2020, 9, 15))
    factories.make_variant(ex_002_biopsy, var_protein="G1202R", var_vaf=Decimal("9.5"), ngs_variant_complete=2)
    factories.make_variant(ex_002_biopsy, var_gene="MET", var_kind=2, var_protein="", var_cn=Decimal("5.2"))

    variants = NgsVariantResource().import_data(
        tablib.Dataset().load((SAMPLES / "ngs_variants.csv").read_text(), format="csv"), dry_run=False
    )
    vital = VitalStatusResource().import_data(
        tablib.Dataset().load((SAMPLES / "vital_status.csv").read_text(), format="csv"), dry_run=False
    )

    assert spreadsheet_problems(variants) == [] and spreadsheet_problems(vital) == []
    # EX-002's p.Gly1202Arg is its stored G1202R: updated (the spelling), not added.
    assert (variants.totals["new"], variants.totals["update"]) == (3, 1)
    assert stored_variants(ex_001) == [
        (1, date(2022, 1, 25), "ALK", 1, "p.I1171N", Decimal("1.800"), None, "", 2),
        (2, date(2022, 1, 25), "ALK", 3, "", None, None, "EML4", 2),
    ]
    assert stored_variants(ex_002) == [
        (1, date(2020, 9, 15), "ALK", 1, "p.Gly1202Arg", Decimal("9.500"), None, "", 2),
        (2, date(2020, 9, 15), "MET", 2, "", None, Decimal("5.20"), "", 0),
        (3, date(2020, 9, 15), "TP53", 1, "R273H", Decimal("41.200"), None, "", 1),
    ]
    assert stored_vital_status() == [
        ("EX-001", date(2024, 5, 14), 1, None, None, 2),
        ("EX-002", date(2022, 4, 24), 2, date(2022, 4, 30), 1, 2),
    ]
