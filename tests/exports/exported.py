"""Export a dataset through the service and read the file back as rows of text cells."""
import csv
import json
import tempfile

from registry.services.datasets import dataset_export, provenance_path


def export_rows(tmp_path, name: str, **options) -> list[list[str]]:
    """The file's rows, header first."""
    output = tmp_path / f"{name}.csv"
    count = dataset_export(name=name, output=output, **options)
    with output.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert count == len(rows) - 1
    return rows


def export_records(tmp_path, name: str, **options) -> list[dict[str, str]]:
    """The file's data rows as {column: cell}."""
    header, *rows = export_rows(tmp_path, name, **options)
    return [dict(zip(header, row, strict=True)) for row in rows]


def read_provenance(output) -> dict:
    return json.loads(provenance_path(output).read_text(encoding="utf-8"))


def read_xpt_bytes(body: bytes):
    """(data, metadata) of a SAS transport file's bytes (pyreadstat reads from a path)."""
    import pyreadstat  # a second to import, which the CSV tests need not pay
    with tempfile.NamedTemporaryFile(suffix=".xpt") as file:
        file.write(body)
        file.flush()
        return pyreadstat.read_xport(file.name)
