"""A required field's missing-data code in a laboratory spreadsheet of NGS variants (issue 12 §4 follow-up)."""
from tablib import Dataset

from registry.models import NgsVariant
from registry.records.spreadsheets import NgsVariantResource, spreadsheet_problems
from tests import factories

HEADER = "record_id,var_bx_date,var_gene,var_kind,var_protein,var_partner\n"


def test_a_variant_of_unknown_alteration_is_stored_and_imported_again_as_the_same_variant(site_a):
    patient = factories.make_patient(site_a, "W-6")
    factories.make_biopsy(patient)  # 2022-01-25
    sheet = HEADER + "W-6,2022-01-25,ALK,UNK,G1202R,\n"

    first = NgsVariantResource().import_data(Dataset().load(sheet, format="csv"), dry_run=False)
    again = NgsVariantResource().import_data(Dataset().load(sheet, format="csv"), dry_run=False)

    assert spreadsheet_problems(first) == [] and spreadsheet_problems(again) == []
    # One variant: the second file names the same one (its code is part of what identifies it).
    assert list(NgsVariant.objects.values_list("var_gene", "var_kind", "var_kind_missing")) == [("ALK", None, "UNK")]


def test_a_code_is_not_read_as_a_gene_named_like_it(site_a):
    # "NA" in var_gene is the code Not applicable, not a gene called NA: stored blank with its code.
    patient = factories.make_patient(site_a, "W-7")
    factories.make_biopsy(patient)
    sheet = HEADER + "W-7,2022-01-25,NA,1,,\n"

    result = NgsVariantResource().import_data(Dataset().load(sheet, format="csv"), dry_run=False)

    assert spreadsheet_problems(result) == []
    assert list(NgsVariant.objects.values_list("var_gene", "var_gene_missing")) == [("", "NA")]


def test_a_blank_required_cell_without_a_code_is_refused_and_nothing_written(site_a):
    patient = factories.make_patient(site_a, "W-8")
    factories.make_biopsy(patient)
    sheet = HEADER + "W-8,2022-01-25,ALK,,G1202R,\n"

    result = NgsVariantResource().import_data(Dataset().load(sheet, format="csv"), dry_run=False)

    assert [problem[2:] for problem in spreadsheet_problems(result)] == [("var_kind", "", "This field cannot be null.")]
    assert not NgsVariant.objects.exists()
