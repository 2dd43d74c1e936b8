"""A checkbox field's missing-data code in the datasets (issue 12 §4): the instrument datasets keep the
dictionary's option columns (no code column), each option of a coded field missing: blank in CSV,
the code's SPSS user-missing value in .sav, and the codebook names the codes."""
import csv

import pyreadstat
import pytest

from registry.services.datasets import dataset_export
from tests import factories
from tests.exports.exported import export_records

OPTIONS = [f"alk_method___{code}" for code in range(1, 6)]


@pytest.fixture
def coded(site_a):
    """C-1: alk_method coded ASKU; C-2: FISH ticked."""
    factories.make_patient(site_a, "C-1", alk_method_missing="ASKU")
    factories.make_patient(site_a, "C-2", alk_method_2=True)


def test_a_coded_checkbox_is_blank_in_every_option_of_the_csv(coded, tmp_path):
    first, second = export_records(tmp_path, "enrollment")

    assert [first[name] for name in OPTIONS] == [""] * 5
    assert [second[name] for name in OPTIONS] == ["0", "1", "0", "0", "0"]
    assert not [name for name in first if name.startswith("alk_method___") and name not in OPTIONS]


def test_a_coded_checkbox_is_user_missing_in_every_option_of_the_sav(coded, tmp_path):
    output = tmp_path / "enrollment.sav"
    dataset_export(name="enrollment", output=output, file_format="sav")

    data, meta = pyreadstat.read_sav(output, user_missing=True)

    # REDCap's list from -991: NI -991, UNK -992, NASK -993, ASKU -994.
    assert data["alk_method___3"].tolist() == [-994, 0]
    assert meta.missing_ranges["alk_method___3"] == [{"lo": -997.0, "hi": -991.0}]
    assert meta.variable_value_labels["alk_method___3"][-994] == "ASKU Asked but unknown"


def test_the_codebook_names_the_codes_of_each_option(coded, tmp_path):
    output = tmp_path / "enrollment.csv"
    dataset_export(name="enrollment", output=output)

    with (tmp_path / "enrollment.csv.codebook.csv").open(encoding="utf-8") as stream:
        codebook = {row["column"]: row["codes"] for row in csv.DictReader(stream)}

    assert codebook["alk_method___1"].startswith("1, Checked | 0, Unchecked || Missing-data codes, written blank")
    assert "ASKU -994 Asked but unknown" in codebook["alk_method___1"]
