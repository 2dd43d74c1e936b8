"""Every exported column has one codebook row, and the codebook comes from the dictionary.

The dictionary is read here with the csv module, not through registry/records/dictionary.py, so a
label or flag the parser lost would show.
"""
import csv

import pytest

from registry.exports.catalog import dataset_names, exportable
from registry.exports.columns import RAW_FIELD_UNITS
from registry.exports.statistics_writer import cut_to_bytes, invalid_spss_names, invalid_stata_names
from registry.records.dictionary import DICTIONARY_PATH
from registry.services.datasets import codebook_path, dataset_export
from tests import factories
from tests.exports.populated import make_derived_patient

FORMS = ("enrollment", "treatment_line", "local_therapy", "tumor_assessment", "lesion", "lesion_measurement",
         "biopsy", "ngs_variant", "vital_status")


def _dictionary_rows() -> list[dict[str, str]]:
    with DICTIONARY_PATH.open(newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


def _read_csv(path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def test_the_datasets_are_the_seven_analysis_ones_and_one_per_form_of_the_dictionary():
    forms = list(dict.fromkeys(row["Form Name"] for row in _dictionary_rows()))

    assert forms == list(FORMS)
    # Rules §8: the five of version 1, then the two ADaM-style ones of version 2.
    assert dataset_names() == (
        "lines", "endpoints", "assessments", "biopsies", "patients", "responses", "tumor_sums", *FORMS,
    )


@pytest.mark.parametrize("name", dataset_names())
@pytest.mark.parametrize("deidentify", [False, True])
def test_every_column_of_the_file_has_one_codebook_row_in_the_same_order(site_a, tmp_path, settings, name,
                                                                        deidentify):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    factories.make_full_patient(site_a, "F-1")
    make_derived_patient(site_a, "D-1")
    output = tmp_path / f"{name}.csv"

    dataset_export(name=name, output=output, deidentify=deidentify)

    header = _read_csv(output)[0]
    codebook = _read_csv(codebook_path(output))
    assert codebook[0] == ["column", "label", "type", "unit", "codes", "source", "deidentification", "storage"]
    assert [row[0] for row in codebook[1:]] == header
    assert all(row[1] and row[2] and row[5] for row in codebook[1:])  # a label, a type and a source each


@pytest.mark.parametrize("form", FORMS)
def test_raw_columns_have_the_dictionarys_labels_and_codes(form):
    columns = {column.name: column for column in exportable(form).columns}

    for row in _dictionary_rows():
        if row["Form Name"] != form:
            continue
        name, label, choices = (row["Variable / Field Name"], row["Field Label"],
                                row["Choices, Calculations, OR Slider Labels"])
        if row["Field Type"] == "checkbox":
            for choice in choices.split("|"):
                code, _, choice_label = choice.strip().partition(", ")
                column = columns[f"{name}___{code}"]
                assert column.label == f"{label} (choice={choice_label})"
                assert column.codes_text() == "1, Checked | 0, Unchecked"
            continue
        assert columns[name].label == label
        if row["Field Type"] in ("radio", "dropdown"):
            # The dictionary's choices, as the dictionary writes them.
            assert columns[name].codes_text() == " | ".join(part.strip() for part in choices.split("|"))
        if row["Field Type"] == "yesno":
            assert columns[name].codes_text() == "1, Yes | 0, No"


def test_identifier_columns_are_the_fields_the_dictionary_flags():
    flagged = {row["Variable / Field Name"] for row in _dictionary_rows() if row["Identifier?"].strip() == "y"}
    identifiers = {column.name for name in dataset_names() for column in exportable(name).columns if column.identifier}

    assert flagged == {"mrn", "birth_date"}
    assert identifiers == flagged


def test_units_are_declared_only_for_dictionary_fields():
    fields = {row["Variable / Field Name"] for row in _dictionary_rows()}

    assert set(RAW_FIELD_UNITS) <= fields
    assert {column.name: column.unit for column in exportable("lesion_measurement").columns}["lm_mm"] == "mm"


def test_derived_columns_give_their_unit_and_the_codes_they_share_with_a_field():
    lines = {column.name: column for column in exportable("lines").columns}

    assert (lines["pfs_days"].unit, lines["pfs_months"].unit, lines["age_at_start"].unit) == ("days", "months", "years")
    assert lines["tki_generation"].codes_text() == "1, First | 2, Second | 3, Third"
    assert lines["histology_at_start"].codes == exportable("enrollment").columns[5].codes  # histology's
    assert lines["pfs_event"].codes_text() == "1, Yes | 0, No"
    assert lines["cns_mets_at_start"].source == "data dictionary, form treatment_line (the field line_cns_mets)"


@pytest.mark.parametrize("name", dataset_names())
def test_every_column_name_is_a_valid_stata_and_spss_variable_name(name):
    names = [column.name for column in exportable(name).columns]

    assert invalid_stata_names(names) == []
    assert invalid_spss_names(names) == []
    assert max(len(name) for name in names) <= 32


def test_invalid_names_are_caught():
    assert invalid_stata_names(["1st", "a" * 33, "in", "str12", "ok_name"]) == ["1st", "a" * 33, "in", "str12"]
    assert invalid_spss_names(["_x", "BY", "fine"]) == ["_x", "BY"]


def test_a_label_too_long_for_a_format_is_cut_with_an_ellipsis_within_its_bytes():
    assert cut_to_bytes("short", 80) == "short"
    cut = cut_to_bytes("é" * 50, 80)  # 100 bytes

    assert cut == "é" * 38 + "..." and len(cut.encode()) == 79
