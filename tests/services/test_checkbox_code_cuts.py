"""A checkbox field's missing-data code in a frozen data cut (issue 12 §4, §6): the cut's flat export
writes the code columns as the live export did at the freeze, whatever the live records do afterwards."""
import io

import pytest

from registry.models import AnalysisSettings, DataCut, Patient
from registry.services.data_cuts import data_cut_freeze
from registry.services.records import records_export
from tests import factories
from tests.data_cut_world import CUTOFF, derive_everyone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cutoff(db):
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": CUTOFF})


def _export(cut=None) -> str:
    output = io.StringIO()
    records_export(output=output, cut=cut)
    return output.getvalue()


def test_a_cut_exports_its_checkbox_codes_as_frozen_after_the_live_code_is_cleared(site_a):
    factories.make_patient(site_a, "CUT-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "CUT-2", alk_method_1=True)
    derive_everyone()
    live = _export()
    cut = DataCut.objects.get(pk=data_cut_freeze(name="with-codes").pk)
    Patient.objects.filter(record_id="CUT-1").update(alk_method_missing="", alk_method_3=True)

    from_cut = _export(cut)

    assert "alk_method___unk" in live.splitlines()[0]
    assert from_cut == live  # byte for byte, the code columns included
    assert "alk_method___unk" not in _export().splitlines()[0]  # no live record holds a code any more


def test_a_cut_without_checkbox_codes_exports_no_code_column(site_a):
    factories.make_patient(site_a, "CUT-1", alk_method_2=True)
    derive_everyone()
    cut = DataCut.objects.get(pk=data_cut_freeze(name="no-codes").pk)
    Patient.objects.filter(record_id="CUT-1").update(alk_method_2=False, alk_method_missing="NI")

    header = _export(cut).splitlines()[0]

    assert "alk_method___ni" not in header and "alk_method___5" in header


def test_a_record_holding_codes_freezes_and_its_datasets_from_the_cut_keep_the_codes(site_a, tmp_path):
    # A coded value is stored in the cut as its code (it was refused before: a cut could not store it).
    import pyreadstat

    from registry.services.datasets import dataset_export

    factories.make_patient(site_a, "CUT-1", vital=2, death_date_missing="UNK", death_cause_missing="NI",
                           alk_method_missing="ND")
    derive_everyone()
    cut = DataCut.objects.get(pk=data_cut_freeze(name="coded").pk)
    Patient.objects.update(death_cause=1, death_cause_missing="", alk_method_missing="", alk_method_1=True)

    dataset_export(name="vital_status", output=tmp_path / "vital.sav", file_format="sav", cut=cut)
    dataset_export(name="enrollment", output=tmp_path / "enrollment.sav", file_format="sav", cut=cut)
    vital, _ = pyreadstat.read_sav(tmp_path / "vital.sav", user_missing=True)
    enrollment, _ = pyreadstat.read_sav(tmp_path / "enrollment.sav", user_missing=True)

    # As frozen: NI -991 in death_cause, ND -997 in every alk_method option.
    assert vital["death_cause"].tolist() == [-991]
    assert enrollment["alk_method___1"].tolist() == [-997]
