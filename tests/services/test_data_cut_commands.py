"""The command-line doors of data cuts: freeze_cut, and export_dataset --cut."""
import io

import pytest
from django.core.management import CommandError, call_command

from registry.models import DataCut, DataCutBlob, DataCutEntry, Role
from tests import factories
from tests.data_cut_world import build_cut_world, change_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _stored():
    return DataCut.objects.count(), DataCutEntry.objects.count(), DataCutBlob.objects.count()


def test_freeze_cut_freezes_every_record_and_says_so(world):
    out = io.StringIO()

    call_command("freeze_cut", "2024-analysis", "--cutoff", "2024-06-30", stdout=out)

    cut = DataCut.objects.get()
    assert (cut.name, cut.patients, cut.frozen_by) == ("2024-analysis", 20, None)
    assert f"content hash {cut.content_hash}" in out.getvalue()


def test_freeze_cut_refuses_a_duplicate_name_and_writes_nothing(world):
    call_command("freeze_cut", "2024-analysis", stdout=io.StringIO())
    before = _stored()

    with pytest.raises(CommandError, match="'2024-analysis' exists already"):
        call_command("freeze_cut", "2024-analysis", stdout=io.StringIO())

    assert _stored() == before


def test_freeze_cut_refuses_a_user_who_is_not_an_administrator(world):
    factories.make_user("manager", role=Role.DATA_MANAGER)

    with pytest.raises(CommandError, match="manager may not freeze a data cut"):
        call_command("freeze_cut", "2024-analysis", "--user", "manager", stdout=io.StringIO())

    assert _stored() == (0, 0, 0)


def test_freeze_cut_refuses_a_malformed_cutoff(world):
    with pytest.raises(CommandError, match="--cutoff '30/06/2024' is not a date"):
        call_command("freeze_cut", "2024-analysis", "--cutoff", "30/06/2024", stdout=io.StringIO())

    assert _stored() == (0, 0, 0)


def test_export_dataset_from_a_cut_is_byte_identical_after_changes(world, site_a, tmp_path):
    call_command("freeze_cut", "2024-analysis", stdout=io.StringIO())
    for file_format in ("csv", "parquet"):
        call_command("export_dataset", "lines", "--format", file_format, "--cut", "2024-analysis",
                     "--output", tmp_path / f"first.{file_format}", stdout=io.StringIO())

    change_everything(site_a)

    # The Parquet file carries its provenance, whose `file` is the file's name: the same name is asked for again.
    (tmp_path / "again").mkdir()
    for file_format in ("csv", "parquet"):
        call_command("export_dataset", "lines", "--format", file_format, "--cut", "2024-analysis",
                     "--output", tmp_path / "again" / f"first.{file_format}", stdout=io.StringIO())
        assert (tmp_path / "again" / f"first.{file_format}").read_bytes() == (
            tmp_path / f"first.{file_format}").read_bytes()


def test_export_dataset_refuses_an_unknown_cut(world, tmp_path):
    with pytest.raises(CommandError, match="No data cut is named 'nope'"):
        call_command("export_dataset", "lines", "--cut", "nope", "--output", tmp_path / "lines.csv")

    assert not (tmp_path / "lines.csv").exists()


def test_export_records_from_a_cut_gives_the_flat_export_as_it_was(world, site_a, tmp_path):
    call_command("freeze_cut", "2024-analysis", stdout=io.StringIO())
    call_command("export_records", "--output", tmp_path / "live-then.csv", stdout=io.StringIO())

    change_everything(site_a)
    call_command("export_records", "--output", tmp_path / "cut.csv", "--cut", "2024-analysis", stdout=io.StringIO())

    # The flat export as the live one was at the freeze: the record blobs are its non-blank cells.
    assert (tmp_path / "cut.csv").read_bytes() == (tmp_path / "live-then.csv").read_bytes()
    call_command("export_records", "--output", tmp_path / "live-now.csv", stdout=io.StringIO())
    assert (tmp_path / "live-now.csv").read_bytes() != (tmp_path / "cut.csv").read_bytes()
