"""Exports from a frozen data cut are the same files however the live records and results change.

The expected files are the ones the cut gave the first time: that is the rule (a cut never reads a
live record and never re-derives). Each test also checks that the live export did change, so that
sameness is not the trivial kind.
"""
import json

import openpyxl
import pyreadstat
import pytest

from registry.models import Role
from registry.services.data_cuts import data_cut_freeze
from registry.services.datasets import DATASETS, dataset_export, provenance_path
from tests import factories
from tests.data_cut_world import SITE_A_RECORDS, SITE_B_RECORDS, build_cut_world, change_everything

pytestmark = pytest.mark.django_db
ANALYSIS = ("lines", "endpoints", "assessments", "biopsies", "patients")


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _export(folder, name, file_format, **options):
    folder.mkdir(exist_ok=True)
    output = folder / f"{name}.{file_format}"
    dataset_export(name=name, output=output, file_format=file_format, **options)
    return output


def test_csv_and_parquet_from_a_cut_are_byte_identical_after_records_and_settings_change(world, site_a, tmp_path):
    cut = data_cut_freeze(name="2024-analysis")
    first = {(name, f): _export(tmp_path / "first", name, f, cut=cut).read_bytes()
             for name in DATASETS for f in ("csv", "parquet")}
    live_before = _export(tmp_path / "live-before", "lines", "csv").read_bytes()

    change_everything(site_a)

    again = {(name, f): _export(tmp_path / "again", name, f, cut=cut).read_bytes()
             for name in DATASETS for f in ("csv", "parquet")}
    assert again == first
    # The cut's lines are the live lines as they were (same rows, same bytes) ...
    assert first[("lines", "csv")] == live_before
    # ... and the live ones have changed since: an edited, a deleted and a new record, new results.
    assert _export(tmp_path / "live-after", "lines", "csv").read_bytes() != live_before


def _sav_or_dta(path):
    reader = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    return frame, (meta.column_names, meta.column_labels, meta.variable_value_labels, meta.number_rows)


def _workbook_values(path):
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.values] for sheet in workbook.worksheets}


def test_spss_stata_and_excel_from_a_cut_hold_the_same_data_after_changes(world, site_a, tmp_path):
    cut = data_cut_freeze(name="2024-analysis")
    first = {name: [_export(tmp_path / "first", name, f, cut=cut) for f in ("sav", "dta", "xlsx")]
             for name in ("lines", "patients")}

    change_everything(site_a)

    for name, (sav, dta, xlsx) in first.items():
        sav_again, dta_again, xlsx_again = (
            _export(tmp_path / "again", name, f, cut=cut) for f in ("sav", "dta", "xlsx"))
        for before, after in ((sav, sav_again), (dta, dta_again)):
            frame_before, meta_before = _sav_or_dta(before)
            frame_after, meta_after = _sav_or_dta(after)
            assert frame_after.equals(frame_before), after.name
            assert meta_after == meta_before
        # Every sheet (data, codebook, provenance) cell for cell: only the workbook's own time stamp differs.
        assert _workbook_values(xlsx_again) == _workbook_values(xlsx)


def test_the_provenance_names_the_cut_and_its_hash_and_what_its_results_were_derived_with(world, site_a, tmp_path):
    cut = data_cut_freeze(name="2024-analysis")
    change_everything(site_a)

    output = _export(tmp_path, "lines", "csv", cut=cut)

    provenance = json.loads(provenance_path(output).read_text(encoding="utf-8"))
    assert provenance["data_cut"]["name"] == "2024-analysis"
    assert provenance["data_cut"]["content_hash"] == cut.content_hash and len(cut.content_hash) == 64
    # Derived with the cut-off of the freeze (2024-06-30), not the live one (2024-12-31): 12 + 8 patients, all current.
    assert (provenance["data_cutoff"], provenance["patients"], provenance["consistent"]) == ("2024-06-30", 20, True)
    assert provenance["settings_snapshot"]["death_window_days"] == 182


def test_a_coordinator_exporting_from_a_cut_gets_only_the_records_of_their_site_then(world, site_a, site_b, tmp_path):
    coordinator = factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])
    cut = data_cut_freeze(name="2024-analysis")

    output = _export(tmp_path, "patients", "csv", cut=cut, user=coordinator)

    lines = output.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == SITE_A_RECORDS  # record ID order; none of site B's
    only_b = _export(tmp_path / "b", "patients", "csv", cut=cut, user=coordinator, site=site_b)
    assert only_b.read_text(encoding="utf-8").splitlines()[1:] == []
    everything = _export(tmp_path / "all", "patients", "csv", cut=cut)
    assert len(everything.read_text(encoding="utf-8").splitlines()) == 1 + len(SITE_A_RECORDS) + len(SITE_B_RECORDS)


def test_a_deidentified_export_from_a_cut_is_the_same_each_time_and_pseudonymous(world, site_a, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    cut = data_cut_freeze(name="2024-analysis")
    first = _export(tmp_path / "first", "lines", "csv", cut=cut, deidentify=True).read_text(encoding="utf-8")

    change_everything(site_a)

    again = _export(tmp_path / "again", "lines", "csv", cut=cut, deidentify=True).read_text(encoding="utf-8")
    assert again == first
    assert not any(record_id in first for record_id in SITE_A_RECORDS + SITE_B_RECORDS)


def test_a_cut_made_under_one_rules_version_exports_the_same_after_a_new_version_derived_everyone(world, tmp_path):
    from dataclasses import replace

    from registry.models import Patient
    from registry.selectors.derivation_inputs import current_analysis_settings
    from registry.services.derivation import patients_derive

    cut = data_cut_freeze(name="rules-1")
    first = _export(tmp_path / "first", "lines", "csv", cut=cut).read_bytes()

    # The next rules version (simulated: the same rules, stored as version 2) derives every patient again.
    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True),
                    settings=replace(current_analysis_settings(), rules_version=2))

    again = _export(tmp_path / "again", "lines", "csv", cut=cut)
    assert again.read_bytes() == first
    assert json.loads(provenance_path(again).read_text(encoding="utf-8"))["rules_version"] == 2  # issue 13
    live = _export(tmp_path / "live", "lines", "csv")
    assert json.loads(provenance_path(live).read_text(encoding="utf-8"))["rules_version"] == 2


@pytest.mark.parametrize("name", ["endpoints", "patients"])
def test_a_deidentified_export_from_a_cut_writes_the_pseudonym_into_subjid_and_usubjid(world, tmp_path, settings, name):
    # Rules §8 (v2): in a de-identified export record_id and subjid are the pseudonym, usubjid is
    # studyid-pseudonym; the cut stored its rows with the real record ids, so they must be replaced.
    settings.DEIDENTIFICATION_KEY = "k" * 32
    cut = data_cut_freeze(name="2024-analysis")

    text = _export(tmp_path, name, "csv", cut=cut, deidentify=True).read_text(encoding="utf-8")

    rows = [dict(zip(text.splitlines()[0].split(","), line.split(","))) for line in text.splitlines()[1:]]
    assert rows and not any(record_id in text for record_id in SITE_A_RECORDS + SITE_B_RECORDS)
    for row in rows:
        assert row["usubjid"] == f"ALK-REGISTRY-{row['record_id']}"
        if name == "endpoints":
            assert row["subjid"] == row["record_id"]
