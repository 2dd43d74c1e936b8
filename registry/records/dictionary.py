"""The data dictionary shipped with the project (fixtures/data_dictionary.csv), parsed.

It is the contract for imports, exports and APIs; models implement it and
tests/records/test_dictionary_contract.py checks that they agree field by field and code by code.
"""
import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

DICTIONARY_PATH = Path(settings.BASE_DIR) / "fixtures" / "data_dictionary.csv"

# The 18 columns of a REDCap data dictionary, in order, as REDCap names them.
COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)


@dataclass(frozen=True)
class DictionaryField:
    name: str
    form: str
    field_type: str  # text, radio, dropdown, checkbox, yesno, ...
    label: str
    choices: tuple[tuple[str, str], ...]  # (code, label) in the dictionary's order
    validation: str  # date_ymd, integer, number or ""
    minimum: str
    maximum: str
    identifier: bool
    branching_logic: str
    required: bool
    note: str
    annotation: str
    row: tuple[str, ...]  # the 18 raw columns, for re-export of the dictionary itself

    @property
    def is_coded(self) -> bool:
        return self.field_type in ("radio", "dropdown", "checkbox", "yesno")

    @property
    def choice_labels(self) -> dict[str, str]:
        if self.field_type == "yesno":
            return {"1": "Yes", "0": "No"}
        return dict(self.choices)

    def checkbox_columns(self) -> list[str]:
        """REDCap's export columns of a checkbox field: `field___code`, one per choice."""
        return [f"{self.name}___{code}" for code, _ in self.choices]


def _parse_choices(raw: str) -> tuple[tuple[str, str], ...]:
    if not raw.strip():
        return ()
    pairs = []
    for item in raw.split("|"):
        code, _, label = item.partition(",")
        pairs.append((code.strip(), label.strip()))
    return tuple(pairs)


@dataclass(frozen=True)
class DataDictionary:
    fields: tuple[DictionaryField, ...]

    @property
    def forms(self) -> list[str]:
        """Form (instrument) names in the dictionary's order."""
        seen: dict[str, None] = {}
        for field in self.fields:
            seen.setdefault(field.form, None)
        return list(seen)

    def field(self, name: str) -> DictionaryField:
        return self.by_name[name]

    @property
    def by_name(self) -> dict[str, DictionaryField]:
        return {field.name: field for field in self.fields}

    def form_fields(self, form: str) -> list[DictionaryField]:
        return [field for field in self.fields if field.form == form]

    @property
    def record_id_field(self) -> str:
        return self.fields[0].name


def parse_dictionary(path: Path) -> DataDictionary:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != COLUMNS:
            raise ValueError(f"{path} is not a REDCap data dictionary: unexpected header {header!r}")
        fields = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            cells = dict(zip(COLUMNS, row, strict=True))
            fields.append(
                DictionaryField(
                    name=cells["Variable / Field Name"],
                    form=cells["Form Name"],
                    field_type=cells["Field Type"],
                    label=cells["Field Label"],
                    choices=_parse_choices(cells["Choices, Calculations, OR Slider Labels"]),
                    validation=cells["Text Validation Type OR Show Slider Number"],
                    minimum=cells["Text Validation Min"],
                    maximum=cells["Text Validation Max"],
                    identifier=cells["Identifier?"].strip().lower() == "y",
                    branching_logic=cells["Branching Logic (Show field only if...)"],
                    required=cells["Required Field?"].strip().lower() == "y",
                    note=cells["Field Note"],
                    annotation=cells["Field Annotation"],
                    row=tuple(row),
                )
            )
    return DataDictionary(fields=tuple(fields))


@cache
def data_dictionary() -> DataDictionary:
    return parse_dictionary(DICTIONARY_PATH)
