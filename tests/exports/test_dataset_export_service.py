"""dataset_export: argument checks and a file that appears complete or not at all."""
import tempfile

import pytest

from registry.exports import datasets
from registry.services.datasets import dataset_export
from tests.exports.populated import make_derived_patient


def test_an_unknown_dataset_or_format_is_refused_and_nothing_is_written(db, tmp_path):
    with pytest.raises(ValueError, match="Unknown dataset 'survival'"):
        dataset_export(name="survival", output=tmp_path / "out.csv")
    with pytest.raises(ValueError, match="file_format must be one of csv, xlsx, sav, dta, parquet, not 'json'"):
        dataset_export(name="lines", output=tmp_path / "out.json", file_format="json")

    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_the_previous_file_and_no_partial_one(site_a, tmp_path, monkeypatch):
    make_derived_patient(site_a, "P-1")
    output = tmp_path / "lines.csv"
    output.write_text("the previous export\n", encoding="utf-8")

    def failing(batch):
        raise RuntimeError("database went away")
        yield  # a generator, like the real one

    monkeypatch.setitem(datasets.DATASETS, "lines", datasets.Dataset("lines", datasets.LINE_ROWS.columns, failing))
    with pytest.raises(RuntimeError, match="database went away"):
        dataset_export(name="lines", output=output)

    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lines.csv"]


def test_progress_is_reported_after_every_batch_of_patients(site_a, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "BATCH_PATIENTS", 2)
    for number in range(5):
        make_derived_patient(site_a, f"P-{number}")
    reported = []

    dataset_export(name="lines", output=tmp_path / "lines.csv", progress=lambda done, total: reported.append((done, total)))

    # Before the first batch, then after the batches of 2, 2 and 1 patients.
    assert reported == [(0, 5), (2, 5), (4, 5), (5, 5)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "sav", "dta", "parquet"])
def test_a_failure_in_any_format_leaves_no_file_not_even_a_temporary_one(site_a, tmp_path, monkeypatch,
                                                                         file_format):
    for number in range(3):
        make_derived_patient(site_a, f"P-{number}")
    monkeypatch.setattr(datasets, "BATCH_PATIENTS", 1)
    # The writers' temporary files (openpyxl's, pyreadstat's) go to a directory of this test's own: the
    # system's is shared with the other test processes, whose exports come and go meanwhile.
    temporary, output = tmp_path / "temporary", tmp_path / "output"
    temporary.mkdir()
    output.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    def failing_on_the_third_patient(batch):
        if batch[0].record_id == "P-2":
            raise RuntimeError("database went away")
        yield from datasets.LINE_ROWS(batch)

    monkeypatch.setitem(datasets.DATASETS, "lines",
                        datasets.Dataset("lines", datasets.LINE_ROWS.columns, failing_on_the_third_patient))
    with pytest.raises(RuntimeError, match="database went away"):
        dataset_export(name="lines", output=output / f"lines.{file_format}", file_format=file_format)

    assert list(output.iterdir()) == []
    assert list(temporary.iterdir()) == []
