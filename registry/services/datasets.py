"""Export of a dataset (an analysis dataset of rules §8, or one instrument's raw records): the one
door for every caller (command line, admin export jobs, later the API).

The datasets and formats live in registry/exports/; this decides who may export what (the rule is
registry/selectors/export_access.py), whose rows are written, whether they are de-identified, and
writes the three files of an export side by side:

    PATH                    the data, in the format asked for
    PATH.codebook.csv       one row per column of PATH: name, label, type, unit, codes, source
    PATH.provenance.json    the rules version, settings and data cut-off the rows were derived with
"""
import json
import os
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from registry.exports.catalog import Exportable, dataset_names, exportable
from registry.exports.datasets import export_patients
from registry.exports.codebook import codebook_path, codebook_rows, write_codebook_csv
from registry.exports.deidentify import (
    DeidentificationKey, Deidentifier, DeidentificationKeyMissing, deidentification_key,
)
from registry.exports.formats import EXTENSIONS, WRITERS, ExportFile, file_columns, format_refusal, formats_of
from registry.exports.provenance import derivation_provenance
from registry.models import DataCut, ExportDoor, Site
from registry.selectors.data_cuts import (
    cut_dataset, cut_derivation_provenance, cut_export_patients, data_cut_description,
)
from registry.selectors.export_access import ExportNotAllowed, check_export_allowed
from registry.selectors.record_export import export_scope

from .identified_exports import identified_export_log

__all__ = [
    "DATASETS", "EXTENSIONS", "FORMATS", "DeidentificationKeyMissing", "ExportNotAllowed", "codebook_path",
    "dataset_export", "export_checked", "format_refusal", "formats_of", "provenance_path",
]

DATASETS = dataset_names()
FORMATS = tuple(WRITERS)

# progress(patients_done, patients_total), after each batch of patients.
Progress = Callable[[int, int], None]


def provenance_path(output) -> Path:
    """The sidecar file next to a dataset: `lines.csv` → `lines.csv.provenance.json`."""
    output = Path(output)
    return output.with_name(f"{output.name}.provenance.json")


def _partial(path: Path) -> Path:
    return path.with_name(f"{path.name}.partial")


def export_checked(
    *, name: str, file_format: str, user, deidentify: bool, deidentification_key_override: str | None = None,
) -> tuple[Exportable, DeidentificationKey | None]:
    """The dataset and (when de-identifying) the key of an export `user` may make; raises ValueError
    (unknown dataset or format), ExportNotAllowed or DeidentificationKeyMissing otherwise."""
    found = exportable(name)
    if found is None:
        raise ValueError(f"Unknown dataset {name!r}; the datasets are {', '.join(dataset_names())}")
    if file_format not in formats_of(name):  # xpt is for the ADaM datasets only
        raise ValueError(format_refusal(name, file_format))
    check_export_allowed(user, deidentified=deidentify)
    key = deidentification_key(deidentification_key_override) if deidentify else None
    return found, key


def dataset_export(
    *, name: str, output, file_format: str = "csv", user=None, site: Site | None = None, deidentify: bool = False,
    deidentification_key_override: str | None = None, progress: Progress | None = None,
    door: ExportDoor | str = ExportDoor.SERVICE, cut: DataCut | None = None,
) -> int:
    """Writes dataset `name` of the patients `user` may see (None: the system, every patient),
    optionally only `site`'s, to the file `output` in `file_format`, with its codebook and its
    provenance beside it; returns the number of rows (the header not counted).

    `deidentify`: identifier columns dropped, record ids pseudonymised and dates shifted
    (registry/exports/deidentify.py) with the configured key, or `deidentification_key_override`.

    Raises ValueError (unknown dataset or format, or a format not offered for the dataset: xpt is for
    the ADaM datasets, registry/exports/formats.py), ExportNotAllowed (an identified export the user
    may not make) or DeidentificationKeyMissing before anything is written. The files appear complete
    or not at all: they are written under temporary names and renamed, the data file last.
    Reads what is stored; it does not derive (a patient not derived yet has blank derived columns).
    `cut`: the rows as the frozen data cut stored them (registry/selectors/data_cuts.py), under the
    same access and de-identification rules, the site being the record's when the cut was frozen.
    The provenance names the cut and its hash; the copy a file carries inside (Parquet metadata,
    Excel's provenance sheet) leaves out `exported_at`, so that a cut's files are the same each time.
    An identified export is logged (registry/services/identified_exports.py) as coming through `door`,
    once its files are written and just before they appear.
    """
    found, key = export_checked(
        name=name, file_format=file_format, user=user, deidentify=deidentify,
        deidentification_key_override=deidentification_key_override,
    )
    deidentifier = Deidentifier(key, found.columns) if key is not None else None

    if cut is None:
        patients = export_scope(user=user, site=site)
        exported = export_patients(patients)
        dataset = found.dataset
        derived_with = derivation_provenance([patient.id for patient in exported])
    else:
        exported = cut_export_patients(cut, user=user, site=site)
        dataset = cut_dataset(found.dataset)
        derived_with = cut_derivation_provenance([patient.id for patient in exported])
    columns = found.columns
    rows_of = exported
    transform = None
    if deidentifier is not None:
        columns = deidentifier.columns
        rows_of = deidentifier.patients(exported)
        transform = deidentifier.row
    kept, columns = file_columns(file_format, columns)  # xpt: the ADaM variables only

    path = Path(output)
    provenance = {
        "dataset": name,
        "file": path.name,
        "format": file_format,
        "codebook": codebook_path(path).name,
        "site": site.code if site is not None else None,
        "sites": sorted({patient.site_code for patient in exported}),
        "user": user.get_username() if user is not None else None,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "deidentified": deidentifier is not None,
        "deidentification": deidentifier.provenance() if deidentifier is not None else None,
        **({"data_cut": data_cut_description(cut)} if cut is not None else {}),
        **derived_with,
    }
    inside = provenance if cut is None else {key: value for key, value in provenance.items() if key != "exported_at"}
    codebook = codebook_rows(columns, deidentified=deidentifier is not None)
    total = len(rows_of)

    def on_batch(done: int) -> None:
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    rows = dataset.rows(rows_of, on_batch=on_batch)
    if transform is not None:
        rows = map(transform, rows)
    if kept is not None:
        rows = ([row[index] for index in kept] for row in rows)

    files = (codebook_path(path), provenance_path(path), path)
    try:
        count = WRITERS[file_format](_partial(path), ExportFile(name, columns, codebook, inside), rows)
        write_codebook_csv(_partial(codebook_path(path)), codebook)
        _partial(provenance_path(path)).write_text(
            json.dumps({**provenance, "rows": count}, indent=2) + "\n", encoding="utf-8"
        )
        if deidentifier is None:
            identified_export_log(
                user=user, door=door, content=name, file_format=file_format, site_codes=provenance["sites"],
                record_count=len(exported), parameters={
                    "site": provenance["site"], "rows": count, "file": path.name,
                    **({"cut": cut.name} if cut is not None else {}),
                },
            )
        for file in files:
            os.replace(_partial(file), file)
    finally:
        for file in files:
            _partial(file).unlink(missing_ok=True)
    return count
