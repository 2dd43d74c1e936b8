"""Export of the analysis datasets (derivation rules §8): the one door for every caller.

The datasets themselves live in registry/exports/; this decides whose rows are written and where.
"""
import json
import os
from pathlib import Path

from django.utils import timezone

from registry.exports.csv_writer import WRITERS
from registry.exports.datasets import DATASETS, export_patients
from registry.exports.provenance import derivation_provenance
from registry.models import Patient, Site
from registry.selectors.access import restrict_to_visible

__all__ = ["DATASETS", "FORMATS", "dataset_export", "provenance_path"]

FORMATS = tuple(WRITERS)


def provenance_path(output) -> Path:
    """The sidecar file next to a dataset: `lines.csv` → `lines.csv.provenance.json`."""
    output = Path(output)
    return output.with_name(f"{output.name}.provenance.json")


def dataset_export(*, name: str, output, file_format: str = "csv", user=None, site: Site | None = None) -> int:
    """Writes dataset `name` of the patients `user` may see (None: the system, every patient),
    optionally only `site`'s, to the file `output`, and what their rows were derived with to
    `provenance_path(output)`; returns the number of rows (the header not counted).

    The file appears complete or not at all: it is written under a temporary name and renamed.
    Reads what is stored; it does not derive (a patient not derived yet has blank derived columns).
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; the datasets are {', '.join(DATASETS)}")
    if file_format not in WRITERS:
        raise ValueError(f"file_format must be one of {', '.join(WRITERS)}, not {file_format!r}")
    dataset = DATASETS[name]
    patients = Patient.objects.all()
    if user is not None:
        patients = restrict_to_visible(patients, user, site_path="site_id")
    if site is not None:
        patients = patients.filter(site=site)
    exported = export_patients(patients)

    path = Path(output)
    partial = path.with_name(f"{path.name}.partial")
    try:
        # newline="": the writer's own LF line ends are kept as they are on every platform.
        with partial.open("w", encoding="utf-8", newline="") as stream:
            rows = WRITERS[file_format](stream, dataset.columns, dataset.rows(exported))
        provenance = {
            "dataset": name,
            "file": path.name,
            "format": file_format,
            "rows": rows,
            "site": site.code if site is not None else None,
            "user": user.get_username() if user is not None else None,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
            **derivation_provenance([patient.id for patient in exported]),
        }
        provenance_path(path).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return rows
