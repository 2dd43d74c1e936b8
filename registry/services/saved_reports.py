"""Saved reports: create, change and delete (registry/models/saved_reports.py).

    saved_report_create(user=coordinator, name="Women on alectinib", fields=["sex", "line_drug"],
                        filter_logic='[sex] = "2" and [line_drug] = "2"', sort_field="line_drug")

Anyone with a registry role may save reports (they only ever read rows of the sites they see);
a report is changed or deleted by its owner or by an administrator. Every name is checked against
the data dictionary and the filter is read by the registry's filterLogic parser before anything is
written: a bad definition raises ValidationError (one message per form field, naming the value and
why) and writes nothing. History rows (django-simple-history) keep who changed what and when.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from registry.api.redcap import project
from registry.models import ExportDoor, Role, SavedReport, SortDirection
from registry.records.dictionary import data_dictionary
from registry.records.filter_logic import FilterLogicError, parse_filter_logic
from registry.records.instruments import RECORD_ID
from registry.selectors.access import access_for
from registry.selectors.record_export import exportable_patients, site_codes_by_record
from registry.services.identified_exports import identified_export_log

EDITABLE = ("name", "shared", "fields", "filter_logic", "sort_field", "sort_direction")


def report_field_names() -> list[str]:
    """The names a report may hold, in the dictionary's order: each field, and after each form's
    fields its status `<form>_complete` (record_id is always exported and need not be named)."""
    dictionary = data_dictionary()
    names = []
    for form in dictionary.forms:
        names += [field.name for field in dictionary.form_fields(form) if field.name != RECORD_ID]
        names.append(f"{form}_complete")
    return names


def filter_logic_problem(logic: str) -> str | None:
    """Why a report's filter cannot be used (the parser's reason), or None when it can (or is blank)."""
    if not logic.strip():
        return None
    try:
        parse_filter_logic(logic.strip(), project.column_kinds())
    except FilterLogicError as error:
        return f"The filter {logic.strip()!r} cannot be used: {error}."
    return None


def _checked(values: dict) -> dict:
    """The definition, cleaned; raises ValidationError with every problem found."""
    errors: dict[str, list[str]] = {}
    name = str(values.get("name", "")).strip()
    if not name:
        errors.setdefault("name", []).append("A report needs a name.")
    elif len(name) > 200:
        errors.setdefault("name", []).append(f"A report's name has at most 200 characters (this one has {len(name)}).")
    known = report_field_names()
    given = values.get("fields") or []
    if isinstance(given, str) or not all(isinstance(item, str) for item in given):
        errors.setdefault("fields", []).append("fields must be a list of the data dictionary's field names.")
        given = []
    unknown = [item for item in given if item not in known and item != RECORD_ID]
    if unknown:
        errors.setdefault("fields", []).append(
            "Not fields of the data dictionary: " + ", ".join(repr(item) for item in unknown) + ".")
    fields = [item for item in known if item in set(given)]  # the dictionary's order, each once
    if not fields and not unknown and "fields" not in errors:
        errors.setdefault("fields", []).append("Choose at least one field.")
    logic = str(values.get("filter_logic") or "").strip()
    problem = filter_logic_problem(logic)
    if problem:
        errors.setdefault("filter_logic", []).append(problem)
    sort_field = str(values.get("sort_field") or "").strip()
    dictionary = data_dictionary()
    if sort_field and sort_field != RECORD_ID:
        if sort_field not in fields:
            errors.setdefault("sort_field", []).append(
                f"The sort field {sort_field!r} is not one of the report's fields.")
        elif sort_field in dictionary.by_name and dictionary.field(sort_field).field_type == "checkbox":
            errors.setdefault("sort_field", []).append(
                f"The sort field {sort_field!r} is a checkbox (one column per choice): sort by another field.")
    direction = values.get("sort_direction") or SortDirection.ASCENDING
    if direction not in SortDirection.values:
        errors.setdefault("sort_direction", []).append(
            f"The sort direction {direction!r} is not one of {', '.join(SortDirection.values)}.")
    if errors:
        raise ValidationError(errors)
    return {"name": name, "shared": bool(values.get("shared", False)), "fields": fields, "filter_logic": logic,
            "sort_field": sort_field, "sort_direction": direction}


def may_change_report(user, report: SavedReport) -> bool:
    """Its owner, or an administrator (for a report they see: their own or a shared one)."""
    if report.owner_id == user.pk:
        return True
    return access_for(user).role == Role.ADMINISTRATOR and report.shared


def _save(report: SavedReport, *, user, reason: str) -> SavedReport:
    report._history_user = user
    report._change_reason = reason
    report.full_clean(exclude=["owner"])
    report.save()
    return report


@transaction.atomic
def saved_report_create(*, user, name: str, fields: list[str], shared: bool = False, filter_logic: str = "",
                        sort_field: str = "", sort_direction: str = SortDirection.ASCENDING) -> SavedReport:
    """A new report owned by `user`. Raises PermissionDenied for a user without a registry role,
    ValidationError for a bad definition (nothing written)."""
    if access_for(user).role is None:
        raise PermissionDenied("Only users with a registry role save reports.")
    values = _checked({"name": name, "fields": fields, "shared": shared, "filter_logic": filter_logic,
                       "sort_field": sort_field, "sort_direction": sort_direction})
    return _save(SavedReport(owner=user, **values), user=user, reason="report created")


@transaction.atomic
def saved_report_update(*, report: SavedReport, user, values: dict) -> SavedReport:
    """Changes the given parts of `report` (keys of EDITABLE; the others keep their value). Raises
    PermissionDenied unless `user` may change it, ValidationError for a bad definition or an unknown
    key (nothing written)."""
    if not may_change_report(user, report):
        raise PermissionDenied(f"Only its owner or an administrator changes the report {report.name!r}.")
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"Not parts of a report: {', '.join(unknown)}.")
    merged = {key: getattr(report, key) for key in EDITABLE} | values
    for key, value in _checked(merged).items():
        setattr(report, key, value)
    return _save(report, user=user, reason="report changed")


@transaction.atomic
def saved_report_delete(*, report: SavedReport, user) -> None:
    """Deletes `report` (its history stays). Raises PermissionDenied unless `user` may change it."""
    if not may_change_report(user, report):
        raise PermissionDenied(f"Only its owner or an administrator deletes the report {report.name!r}.")
    report._history_user = user
    report._change_reason = "report deleted"
    report.delete()


def saved_report_export_log(table, *, user, door: ExportDoor, file_format: str, via: str = "") -> None:
    """Logs an identified read of a report's rows (a download or a REDCap API answer; `table` from
    registry.selectors.saved_reports.report_table) as every identified export is logged: the sites
    and number of the records it holds. Two queries: the sites of the records the user sees, the
    INSERT. The report page itself is reading, not an export, and is not logged."""
    sites = site_codes_by_record(exportable_patients(user=user))
    per_site: dict[str, int] = {}
    for record_id in table.record_ids:
        per_site[sites[record_id]] = per_site.get(sites[record_id], 0) + 1
    report = table.report
    identified_export_log(
        user=user, door=door, content=f"saved report {report.pk}", file_format=file_format,
        site_codes=per_site, record_count=len(table.record_ids),
        parameters={"report_id": report.pk, "name": report.name, "fields": list(report.fields),
                    "filter_logic": report.filter_logic, "via": via},
    )
