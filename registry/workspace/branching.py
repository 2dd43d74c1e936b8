"""The data dictionary's branching logic ("show the field only if ..."), evaluated on the server.

The logic is read by the registry's own REDCap-logic parser (registry/records/filter_logic.py), the
one the REDCap API's filterLogic uses, so `[vital] = '2'` means the same in both places. A field whose
logic does not hold on the values of the page is hidden; a field without logic is always shown.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache

from registry.records.filter_logic import FilterLogic, parse_filter_logic
from registry.api.redcap.project import column_kinds
from registry.records.dictionary import data_dictionary
from registry.records.instruments import format_value


@cache
def _logic_of(form_name: str) -> dict[str, FilterLogic]:
    """Each field of the form that has branching logic → its parsed logic (read once per process)."""
    kinds = column_kinds()
    return {
        field.name: parse_filter_logic(field.branching_logic, kinds)
        for field in data_dictionary().form_fields(form_name) if field.branching_logic.strip()
    }


def branching_logic(form_name: str) -> dict[str, FilterLogic]:
    """Each field of the form that has branching logic → its parsed logic (the data-quality rules
    evaluate it on stored values)."""
    return _logic_of(form_name)


def hidden_fields(form_name: str, values: Mapping[str, str], *, names: Collection[str] | None = None) -> frozenset[str]:
    """The fields of `form_name` (among `names`, when given) that branching logic hides, given `values`
    (REDCap raw text by export column: `vital` → "2", `ta_new_sites___3` → "1"; missing = blank)."""
    def value_of(column: str) -> str:
        return values.get(column, "")

    return frozenset(
        name for name, logic in _logic_of(form_name).items()
        if (names is None or name in names) and not logic.matches(value_of)
    )


def _raw(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return format_value(value)


def form_values(form) -> dict[str, str]:
    """The values a form shows, as REDCap raw text by export column: what was typed when the form is
    bound, else the instance's values (`form` is an InstrumentForm)."""
    values: dict[str, str] = {}
    for name, field in form.fields.items():
        if name in form.checkbox_groups:
            if form.is_bound:
                ticked = set(form.data.getlist(form.add_prefix(name))) if hasattr(form.data, "getlist") else set(
                    form.data.get(form.add_prefix(name)) or ())
            else:
                ticked = set(form[name].initial or ())
            for code, _, _ in form.checkbox_groups[name]:
                values[f"{name}___{code}"] = "1" if code in ticked else "0"
            continue
        if form.is_bound:
            raw = form.data.get(form.add_prefix(name), "")
            values[name] = (raw or "").strip() if isinstance(raw, str) else _raw(raw)
        else:
            initial = form.get_initial_for_field(field, name)
            values[name] = _raw(initial)
    return values
