"""A required field's missing-data code in the datasets: blank in CSV, an SPSS user-missing value in .sav
(issue 12 §4 follow-up), as for every other codable field."""
import pyreadstat
import pytest

from registry.services.datasets import dataset_export
from tests import factories
from tests.exports.exported import export_records


@pytest.fixture
def coded(site_a):
    """R-1: sex UNK; line 1 of type NI and regimen ND."""
    patient = factories.make_patient(site_a, "R-1", sex=None, sex_missing="UNK")
    factories.make_line(patient, line_type=None, line_type_missing="NI", line_drug=None, line_drug_missing="ND")
    return patient


def test_a_coded_required_cell_is_blank_in_csv(coded, tmp_path):
    enrollment, = export_records(tmp_path, "enrollment")
    line, = export_records(tmp_path, "treatment_line")

    assert enrollment["sex"] == ""
    assert (line["line_type"], line["line_drug"]) == ("", "")


def test_a_coded_required_cell_is_a_user_missing_value_in_spss(coded, tmp_path):
    output = tmp_path / "treatment_line.sav"
    dataset_export(name="treatment_line", output=output, file_format="sav")
    enrollment_output = tmp_path / "enrollment.sav"
    dataset_export(name="enrollment", output=enrollment_output, file_format="sav")

    line, meta = pyreadstat.read_sav(output, user_missing=True)
    enrollment, _ = pyreadstat.read_sav(enrollment_output, user_missing=True)

    # REDCap's list from -991: NI -991, UNK -992, ..., ND -997.
    assert (line["line_type"].tolist(), line["line_drug"].tolist()) == ([-991], [-997])
    assert meta.missing_ranges["line_type"] == [{"lo": -997.0, "hi": -991.0}]
    assert meta.variable_value_labels["line_drug"][-997] == "ND Not done"
    assert enrollment["sex"].tolist() == [-992]
