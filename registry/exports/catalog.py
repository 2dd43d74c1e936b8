"""Every exportable dataset by name, with the description of each of its columns.

The five analysis datasets of rules §8 (registry/exports/datasets.py, described by
analysis_columns.py), the two ADaM-style ones of rules version 2 (adam_datasets.py, which describes
its own columns) and one raw dataset per instrument (instrument_datasets.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import adam_datasets, datasets
from .analysis_columns import ANALYSIS_COLUMNS
from .columns import Column
from .instrument_datasets import INSTRUMENT_COLUMNS, INSTRUMENT_DATASETS

ANALYSIS = "analysis"
RECORDS = "records"


@dataclass(frozen=True)
class Exportable:
    dataset: datasets.Dataset
    columns: tuple[Column, ...]  # one per column of the dataset, in its order
    kind: str  # ANALYSIS or RECORDS


def dataset_names() -> tuple[str, ...]:
    return (*datasets.DATASETS, *adam_datasets.ADAM_DATASETS, *INSTRUMENT_DATASETS)


def exportable(name: str) -> Exportable | None:
    """The dataset called `name`, or None. Looked up when called (tests replace a dataset)."""
    if name in datasets.DATASETS:
        dataset = datasets.DATASETS[name]
        return Exportable(dataset, tuple(ANALYSIS_COLUMNS[column] for column in dataset.columns), ANALYSIS)
    if name in adam_datasets.ADAM_DATASETS:
        return Exportable(*adam_datasets.ADAM_DATASETS[name], ANALYSIS)
    if name in INSTRUMENT_DATASETS:
        return Exportable(INSTRUMENT_DATASETS[name], INSTRUMENT_COLUMNS[name], RECORDS)
    return None
