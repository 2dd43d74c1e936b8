"""A dataset as a Parquet file (pyarrow), typed column by column (registry/exports/typed.py).

Rows are gathered into row groups of ROW_GROUP_ROWS and each group written as it fills, so memory
holds one group whatever the number of rows. Each field's metadata carries its label, type, unit
and codes; the file's metadata the dataset's name and what its rows were derived with.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import islice
from pathlib import Path

import pyarrow.parquet as pq

from .formats import ExportFile
from .typed import arrow_batch, arrow_schema

ROW_GROUP_ROWS = 65_536


def write_parquet(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    schema = arrow_schema(export.columns, metadata={
        "registry.dataset": export.dataset,
        "registry.provenance": json.dumps(export.provenance, sort_keys=True),
    })
    count = 0
    rows = iter(rows)
    with pq.ParquetWriter(path, schema) as writer:
        while group := list(islice(rows, ROW_GROUP_ROWS)):
            writer.write_batch(arrow_batch(export.columns, group, schema))
            count += len(group)
    return count
