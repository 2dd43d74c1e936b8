"""The scan entry page's forms: the tumor assessment (the dictionary's instrument form) and one row per
lesion of the scan's line(s): today's diameter (`mm-<les_id>`, targets, and non-targets already stored as
measured) and status (`status-<les_id>`).

A row left blank is no measurement (an existing one is deleted on save). A target with a diameter and no
status is Measured: typing a number means it was measured. Everything else the model says about a
measurement (a diameter needs status Measured, Measured needs a diameter, 0-500 mm) is checked by the
model itself, and its message is shown beside the row's input.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from registry.derive import inputs
from registry.models import LesionMeasurement, TumorAssessment
from registry.models.choices import MeasurementStatus

from .forms import InstrumentForm, instrument_form_class
from .scan_entry import LesionHistory

NO_STATUS_LABEL = "—"
# Non-targets are not measured by diameter (RECIST 1.1 §4.3.2): their row has the status only.
NONTARGET_STATUSES = tuple(status for status in MeasurementStatus if status != MeasurementStatus.MEASURED)
_MM_FIELD = LesionMeasurement._meta.get_field("lm_mm")


def scan_form_class(*, user_sees_identified: bool = True) -> type[InstrumentForm]:
    return instrument_form_class("tumor_assessment", user_sees_identified=user_sees_identified)


def mm_name(les_id: str) -> str:
    return f"mm-{les_id}"


def status_name(les_id: str) -> str:
    return f"status-{les_id}"


@dataclass(frozen=True)
class TypedMeasurement:
    """One row as typed and validated: its status and diameter."""

    history: LesionHistory
    lm_status: int
    lm_mm: Decimal | None


class LesionRowsForm(forms.Form):
    """Today's value of each lesion shown. `existing`: les_id → the scan's stored measurement (edit)."""

    def __init__(self, data=None, *, histories: Iterable[LesionHistory],
                 existing: dict[str, LesionMeasurement] | None = None):
        super().__init__(data)
        self.histories = tuple(histories)
        self.checks: dict[str, list] = {}  # les_id → soft checks asking about its row (set by the view)
        existing = existing or {}
        # Rows with a diameter input: the targets, and a non-target stored as measured (e.g. a node imported
        # with its short axis), which would otherwise lose its diameter on the next save.
        self.with_mm = {
            history.les_id for history in self.histories
            if history.is_target
            or getattr(existing.get(history.les_id), "lm_status", None) == MeasurementStatus.MEASURED}
        for history in self.histories:
            les_id = history.les_id
            stored = existing.get(les_id)
            if les_id in self.with_mm:
                self.fields[mm_name(les_id)] = forms.DecimalField(
                    label=f"Diameter of {les_id} in mm", required=False,
                    max_digits=_MM_FIELD.max_digits, decimal_places=_MM_FIELD.decimal_places,
                    initial=_mm_text(stored.lm_mm) if stored else None,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": "6", "autocomplete": "off"}),
                )
                statuses = tuple(MeasurementStatus)
            else:
                statuses = NONTARGET_STATUSES
            self.fields[status_name(les_id)] = forms.TypedChoiceField(
                label=f"Status of {les_id}", required=False, coerce=int, empty_value=None,
                choices=[("", NO_STATUS_LABEL), *((status.value, status.label) for status in statuses)],
                initial=stored.lm_status if stored else None,
            )

    def rows(self):
        """(history, mm BoundField or None, status BoundField, soft checks) per lesion, in the page's order."""
        for history in self.histories:
            mm = self[mm_name(history.les_id)] if history.les_id in self.with_mm else None
            yield history, mm, self[status_name(history.les_id)], self.checks.get(history.les_id, ())

    def clean(self):
        cleaned = super().clean()
        self.typed: dict[str, TypedMeasurement] = {}
        for history in self.histories:
            les_id = history.les_id
            mm_field, status_field = mm_name(les_id), status_name(les_id)
            with_mm = les_id in self.with_mm
            if (with_mm and mm_field not in cleaned) or status_field not in cleaned:
                continue  # the field's own error is shown already
            mm = cleaned.get(mm_field) if with_mm else None
            status = cleaned.get(status_field)
            if status is None and mm is not None:
                status = MeasurementStatus.MEASURED  # a diameter typed: the lesion was measured
            if status is None:
                continue  # a blank row: no measurement
            problems = _model_problems(status, mm)
            for model_field, messages in problems.items():
                target = mm_field if model_field == "lm_mm" and with_mm else status_field
                for message in messages:
                    self.add_error(target, message)
            if not problems:
                self.typed[les_id] = TypedMeasurement(history, int(status), mm)
        return cleaned

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) of each row's errors, for the error summary at the top."""
        links = []
        for _, mm, status, _ in self.rows():
            for field in (mm, status):
                if field is not None:
                    links.extend((field.auto_id, f"{field.label}: {error}") for error in field.errors)
        return links

    def derive_measurements(self, scan_date) -> tuple[inputs.LesionMeasurement, ...]:
        """The typed rows as derive reads them (call after is_valid)."""
        return tuple(inputs.LesionMeasurement(lm_date=scan_date, lm_lesion=les_id, lm_status=typed.lm_status,
                                              lm_mm=typed.lm_mm)
                     for les_id, typed in self.typed.items())


def _mm_text(value: Decimal | None) -> str | None:
    """A stored diameter as typed: 20, 20.5 (not 20.00)."""
    return None if value is None else format(value.normalize(), "f")


def _model_problems(status: int, mm: Decimal | None) -> dict[str, list[str]]:
    """What the model's own validation says of this status and diameter (its fields and its clean())."""
    measurement = LesionMeasurement(lm_status=status, lm_mm=mm)
    problems: dict[str, list[str]] = {}
    for check in (lambda: measurement.clean_fields(exclude=["patient", "assessment", "lesion",
                                                             "redcap_repeat_instance"]), measurement.clean):
        try:
            check()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                problems.setdefault(name, []).extend(messages)
    return problems


def assessment_input(assessment: TumorAssessment) -> inputs.TumorAssessment:
    """A (validated, possibly unsaved) assessment as derive reads it, as the derivation selector does."""
    return inputs.TumorAssessment(
        ta_date=assessment.ta_date,
        ta_scope=frozenset(code for code in range(1, 6) if getattr(assessment, f"ta_scope_{code}")),
        ta_nontarget=assessment.ta_nontarget,
        ta_new_lesion=assessment.ta_new_lesion,
        ta_new_sites=frozenset(int(name.rsplit("_", 1)[1]) for name in TumorAssessment.NEW_SITE_FIELDS
                               if getattr(assessment, name)),
        ta_new_count=assessment.ta_new_count,
        ta_symptoms=assessment.ta_symptoms,
        ta_neuro_symptoms=assessment.ta_neuro_symptoms,
        ta_reported=assessment.ta_reported,
    )
