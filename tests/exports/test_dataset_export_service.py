"""dataset_export: argument checks and a file that appears complete or not at all."""
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
