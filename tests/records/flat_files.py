"""Builders of small REDCap flat files for import tests, and counts for 'nothing was written'."""
import csv
import io
from pathlib import Path

from django.conf import settings

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine, TumorAssessment,
)

EVERY_INSTRUMENT_CSV = Path(settings.BASE_DIR) / "fixtures" / "redcap_every_instrument.csv"

RECORD_MODELS = (Patient, TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant)


def record_row(record_id: str, **values: str) -> dict[str, str]:
    return {"record_id": record_id, "redcap_repeat_instrument": "", "redcap_repeat_instance": "", **values}


def instance_row(record_id: str, instrument: str, instance: int | str, **values: str) -> dict[str, str]:
    return {"record_id": record_id, "redcap_repeat_instrument": instrument,
            "redcap_repeat_instance": str(instance), **values}


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    """A flat CSV whose header is `columns`, or every column the rows use in order of appearance."""
    if columns is None:
        columns = list(dict.fromkeys(name for row in rows for name in row))
    output = io.StringIO()
    writer = csv.DictWriter(output, columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue()


def write_csv(directory: Path, name: str, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    path = directory / name
    path.write_text(csv_text(rows, columns), encoding="utf-8")
    return path


def row_counts() -> dict[str, int]:
    """Rows of every record model and of its audit trail."""
    counts = {}
    for model in RECORD_MODELS:
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


EMPTY = {name: 0 for model in RECORD_MODELS for name in (model.__name__, f"{model.__name__} history")}
