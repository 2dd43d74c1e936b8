"""One function per REDCap API `content` (and `action`): validate, call a selector or service, answer.

Every function takes the request's parameters and the caller (the token's user) and returns the
response; it raises ApiError for an answer that is an error.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse

from registry.exports.deidentify import DeidentificationKeyMissing, deidentification_key
from registry.models import ExportDoor, Role
from registry.records.missing_codes import missing_data_codes
from registry.selectors.access import Access, access_for, visible_sites
from registry.selectors.audit_trail import (
    CONFIRMED, LOCKED, QUERY_ACTIONS, SIGNED, UNLOCKED, AuditEntry, audit_trail,
)
from registry.selectors.export_access import may_export_identified
from registry.selectors.record_export import patient_ids_of_site
from registry.selectors.record_names import next_record_name
from registry.selectors.saved_reports import (
    DeidentificationUnavailable, ReportUnavailable, report_table, visible_report,
)
from registry.services.locks import RecordLocked
from registry.services.records import records_delete
from registry.services.saved_reports import saved_report_export_log

from . import project
from .parameters import BAD_REQUEST, FORBIDDEN, FORMATS, SERVICE_UNAVAILABLE, ApiError, Parameters
from .project import UnknownNames
from .record_export import export_response, log_identified_export, parse_export
from .record_import import import_records
from .responses import object_response, table_response, text_response, value_response

# The REDCap version whose API this endpoint follows (its project information keys, its
# answers); PyCap's own tests expect 12.0.1 or later.
REDCAP_VERSION = "14.0.0"
PROJECT_TITLE = "ALK+ NSCLC registry"
PROJECT_NOTES = "Multi-centre registry of patients with ALK-positive non-small cell lung cancer."
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"  # REDCap's logging export
# logtype → the audit-trail actions it lists; REDCap's other log types (export, manage, user,
# page_view, lock_record) are not recorded by the registry's audit trail, so they list nothing.
LOCK_ACTIONS = (LOCKED, UNLOCKED, SIGNED)  # REDCap's "Record locking & e-signatures"
LOG_TYPES = {
    "": ("created", "changed", "deleted", "confirmed", *LOCK_ACTIONS, *QUERY_ACTIONS.values()),
    "record": ("created", "changed", "deleted", "confirmed"),
    "record_add": ("created",), "record_edit": ("changed",), "record_delete": ("deleted",),
    "export": (), "manage": (), "user": (), "page_view": (), "lock_record": LOCK_ACTIONS,
}
# "confirmed": a value a soft check asked about, confirmed as correct (REDCap logs its data quality
# "verified" the same way: an action on the record that changes no value).
LOG_ACTIONS = {"created": "Create record", "changed": "Update record", "deleted": "Delete record",
               "confirmed": "Confirm value", LOCKED: "Lock record", UNLOCKED: "Unlock record",
               SIGNED: "E-signature record",
               # a query's transitions: REDCap's data resolution workflow
               **{action: f"Data resolution: {action}" for action in QUERY_ACTIONS.values()}}
DESIGN_IS_FIXED = (
    "The project's design (data dictionary, instruments, sites and users) is changed by the registry's "
    "administrators in the registry, not through the API"
)


@dataclass(frozen=True)
class Caller:
    user: object
    token_prefix: str

    @property
    def access(self) -> Access:
        return access_for(self.user)

    @property
    def door(self) -> str:
        """The audit trail's reason for this caller's writes."""
        return f"redcap api: token {self.token_prefix}"


def export_format(parameters: Parameters) -> str:
    """The `format` of an export: json, csv or xml (REDCap's default); odm is not offered."""
    file_format = parameters.get("format", "xml").lower() or "xml"
    if file_format not in FORMATS:
        raise ApiError(BAD_REQUEST, f"The value of the parameter \"format\" is not valid: '{file_format}' "
                                    "(json, csv or xml)")
    return file_format


def _refuse_design_writes(parameters: Parameters) -> None:
    """Imports and deletions of the project's design (metadata, dag, user, repeatingFormsEvents,
    project settings): refused, the dictionary is the contract of the registry's code."""
    if parameters.data_sent or parameters.get("action") in ("import", "delete", "switch"):
        raise ApiError(FORBIDDEN, DESIGN_IS_FIXED)


# ---------------------------------------------------------------- the project


def version(parameters: Parameters, caller: Caller) -> HttpResponse:
    return text_response(REDCAP_VERSION)


def project_information(parameters: Parameters, caller: Caller) -> HttpResponse:
    """REDCap's project information keys (REDCap 14), for a classic project with repeating
    instruments in production; PyCap reads is_longitudinal from here."""
    _refuse_design_writes(parameters)
    created = (MigrationRecorder.Migration.objects.filter(app="registry", name="0001_initial")
               .values_list("applied", flat=True).first())
    created_text = created.strftime(TIMESTAMP_FORMAT) if created else ""
    information = {
        "project_id": 1, "project_title": PROJECT_TITLE, "creation_time": created_text,
        "production_time": created_text, "in_production": 1, "project_language": "English",
        "purpose": 2, "purpose_other": "", "project_notes": PROJECT_NOTES, "custom_record_label": "",
        "secondary_unique_field": "", "is_longitudinal": 0, "has_repeating_instruments_or_events": 1,
        "surveys_enabled": 0, "scheduling_enabled": 0, "record_autonumbering_enabled": 0,
        "randomization_enabled": 0, "ddp_enabled": 0, "project_irb_number": "", "project_grant_number": "",
        "project_pi_firstname": "", "project_pi_lastname": "", "display_today_now_button": 1,
        # REDCap's own notation of the project's codes: "NI, No information | UNK, Unknown | ...".
        "missing_data_codes": " | ".join(f"{code}, {label}" for code, label in missing_data_codes().items()),
        "external_modules": "", "bypass_branching_erase_field_prompt": 0,
    }
    return object_response(information, export_format(parameters), xml_root="project")


def metadata(parameters: Parameters, caller: Caller) -> HttpResponse:
    _refuse_design_writes(parameters)
    try:
        rows = project.metadata(fields=parameters.array("fields"), forms=parameters.array("forms"))
    except UnknownNames as error:
        raise ApiError(BAD_REQUEST, str(error)) from None
    return _table(rows, project.METADATA_KEYS, parameters)


def instruments(parameters: Parameters, caller: Caller) -> HttpResponse:
    return _table(project.instruments(), ("instrument_name", "instrument_label"), parameters)


def repeating_instruments(parameters: Parameters, caller: Caller) -> HttpResponse:
    _refuse_design_writes(parameters)
    return _table(project.repeating_instruments(), ("form_name", "custom_form_label"), parameters)


def export_field_names(parameters: Parameters, caller: Caller) -> HttpResponse:
    try:
        rows = project.export_field_names(parameters.get("field"))
    except UnknownNames as error:
        raise ApiError(BAD_REQUEST, str(error)) from None
    return _table(rows, ("original_field_name", "choice_value", "export_field_name"), parameters)


def classic_project_error(what: str):
    """Events, arms and form/event mappings exist only in longitudinal projects: REDCap answers a
    classic project's request with this error, and PyCap's `is_longitudinal` reads the error on
    formEventMapping as "classic"."""

    def answer(parameters: Parameters, caller: Caller) -> HttpResponse:
        action = parameters.get("action") or ("import" if parameters.data_sent else "export")
        raise ApiError(BAD_REQUEST, f"You cannot {action} {what} for classic projects")

    return answer


def data_access_groups(parameters: Parameters, caller: Caller) -> HttpResponse:
    """The sites the token's user sees, as REDCap's data access groups (unique name: the site code)."""
    _refuse_design_writes(parameters)
    rows = [
        {"data_access_group_name": site.name, "unique_group_name": site.code, "data_access_group_id": site.id}
        for site in visible_sites(caller.user)
    ]
    return _table(rows, ("data_access_group_name", "unique_group_name", "data_access_group_id"), parameters)


def users(parameters: Parameters, caller: Caller) -> HttpResponse:
    """The token's own user and rights, in REDCap's user keys (users and roles are managed in the
    registry's admin; a script learns here what its token may do)."""
    _refuse_design_writes(parameters)
    user, access = caller.user, caller.access
    site_ids = access.site_ids
    only_site = None
    if site_ids is not None and len(site_ids) == 1:
        only_site = visible_sites(user).first()
    administrator = int(access.role == Role.ADMINISTRATOR)
    writes = int(access.can_write)
    identified = may_export_identified(user)
    file_format = export_format(parameters)
    forms = {form: 1 if writes else 2 for form in project.data_dictionary().forms}
    exports = {form: 1 if identified else 2 for form in forms}
    row = {
        "username": user.get_username(), "email": user.email, "firstname": user.first_name,
        "lastname": user.last_name, "expiration": "",
        "data_access_group": only_site.code if only_site else "",
        "data_access_group_id": only_site.id if only_site else "",
        "design": 0, "alerts": 0, "user_rights": administrator, "data_access_groups": administrator,
        "reports": 1, "stats_and_charts": 1, "manage_survey_participants": 0, "calendar": 0,
        "data_import_tool": writes, "data_comparison_tool": 0, "logging": administrator, "email_logging": 0,
        "file_repository": 0, "data_quality_create": 0, "data_quality_execute": 0, "api_export": 1,
        "api_import": writes, "api_modules": 0, "mobile_app": 0, "mobile_app_download_data": 0,
        "record_create": writes, "record_rename": 0, "record_delete": administrator,
        "lock_records_customization": 0, "lock_records": 0, "lock_records_all_forms": 0,
        "forms": forms, "forms_export": exports,
    }
    if file_format != "json":  # REDCap writes the per-form rights as "form:right,form:right" in CSV
        row["forms"] = ",".join(f"{form}:{right}" for form, right in forms.items())
        row["forms_export"] = ",".join(f"{form}:{right}" for form, right in exports.items())
    return table_response(list(row), [list(row.values())], file_format)


def next_name(parameters: Parameters, caller: Caller) -> HttpResponse:
    if not caller.access.can_write:
        raise ApiError(FORBIDDEN, "You do not have API Import/Update privileges")
    return text_response(next_record_name(caller.user))


def log(parameters: Parameters, caller: Caller) -> HttpResponse:
    """The audit trail as REDCap's logging export (timestamp, username, action, details), newest
    first, for administrators (REDCap: users with the Logging right). Filters: logtype, user,
    record, dag (a site code), beginTime, endTime."""
    if caller.access.role != Role.ADMINISTRATOR:
        raise ApiError(FORBIDDEN, "You do not have permissions to export the logging (administrators only)")
    log_type = parameters.choice("logtype", tuple(LOG_TYPES), "")
    actions = LOG_TYPES[log_type]
    record, site_code = parameters.get("record"), parameters.get("dag")
    entries: list[AuditEntry] = []
    if actions:
        entries = audit_trail(
            user=caller.user, record_ids=[record] if record else None,
            patient_ids=patient_ids_of_site(site_code) if site_code else None,
            since=parameters.timestamp("beginTime"), until=parameters.timestamp("endTime"),
            changed_by=parameters.get("user") or None,
        )
    rows = [
        {
            "timestamp": entry.when.strftime(LOG_TIMESTAMP_FORMAT), "username": entry.user,
            "action": f"{LOG_ACTIONS[entry.action]} {entry.record_id}", "details": _log_details(entry),
        }
        for entry in entries if entry.action in actions
    ]
    return _table(rows, ("timestamp", "username", "action", "details"), parameters)


def _log_details(entry: AuditEntry) -> str:
    """What changed, as REDCap's log writes it: `[instance = 2] field = 'value', ...`, here with the
    instrument and the door (admin, import file, API token) the change came through."""
    where = entry.instrument + (f" [instance = {entry.instance}]" if entry.instance is not None else "")
    changes = ", ".join(f"{change.field} = '{change.new}'" for change in entry.changes)
    if entry.action == CONFIRMED:  # the value confirmed and what the check asked
        changes = f"{changes} confirmed as correct ({entry.note})"
    elif entry.note:  # an unlock's reason, a signature's meaning, a query's message
        changes = f"{changes}: {entry.note}" if changes else entry.note
    details = f"{where}: {changes}" if changes else where
    return f"{details} (via {entry.door})" if entry.door else details


# ---------------------------------------------------------------- records


def record(parameters: Parameters, caller: Caller) -> HttpResponse:
    """Export (default), import (a `data` parameter, or action=import) or delete (action=delete)."""
    action = parameters.get("action")
    if action == "delete":
        return _delete_records(parameters, caller)
    if action == "import" or parameters.data_sent:  # a blank `data` is an empty import, never an export
        return import_records(parameters, user=caller.user, token_prefix=caller.token_prefix)
    if action not in ("", "export"):
        raise ApiError(BAD_REQUEST, f"The value of the parameter \"action\" is not valid: '{action}'")
    # The registry's export rule: investigators and viewers without the "may export identified data"
    # grant get records de-identified, as REDCap's "De-Identified" export right does (record_export.py).
    key = None
    if not may_export_identified(caller.user):
        try:
            key = deidentification_key()
        except DeidentificationKeyMissing as error:
            raise ApiError(SERVICE_UNAVAILABLE, str(error)) from None
    export = parse_export(parameters, export_format(parameters), deidentified=key)
    if key is None:
        log_identified_export(export, user=caller.user, parameters={
            "records": parameters.array("records"), "fields": parameters.array("fields"),
            "forms": parameters.array("forms"), "filterLogic": parameters.get("filterLogic"),
            "dateRangeBegin": parameters.get("dateRangeBegin"), "dateRangeEnd": parameters.get("dateRangeEnd"),
            "via": caller.door,
        })
    return export_response(export, user=caller.user)


def report(parameters: Parameters, caller: Caller) -> HttpResponse:
    """A saved report's rows (PyCap's `export_report(report_id=...)`): REDCap's flat format with the
    report's columns after record_id and the repeat columns, sorted and filtered as the report says,
    for the records the token's user sees, de-identified for users without the identified grant
    (registry/selectors/saved_reports.py). `rawOrLabel`, `rawOrLabelHeaders` (CSV),
    `exportCheckboxLabel` and `csvDelimiter` as for records. An unknown report, or another user's
    private one, is a 400 error that says no more than that. An identified answer is logged."""
    if not parameters.given("report_id") or not parameters.get("report_id").strip():
        raise ApiError(BAD_REQUEST, "The parameter \"report_id\" is missing")
    file_format = export_format(parameters)
    report_id = parameters.get("report_id").strip()
    try:
        saved = visible_report(caller.user, report_id)
    except ReportUnavailable:
        raise ApiError(BAD_REQUEST, f"The value of the parameter \"report_id\" is not valid: '{report_id}' "
                                    "(no such report among those you can see)") from None
    labels = parameters.choice("rawOrLabel", ("raw", "label"), "raw") == "label"
    label_headers = parameters.choice("rawOrLabelHeaders", ("raw", "label"), "raw") == "label"
    try:
        table = report_table(saved, user=caller.user, labels=labels,
                             checkbox_labels=parameters.flag("exportCheckboxLabel"))
    except DeidentificationUnavailable as error:  # as content=record answers it
        raise ApiError(SERVICE_UNAVAILABLE, str(error)) from None
    except ReportUnavailable as error:
        raise ApiError(BAD_REQUEST, str(error)) from None
    if not table.deidentified:
        saved_report_export_log(table, user=caller.user, door=ExportDoor.REDCAP_API, file_format=file_format,
                                via=caller.door)
    header = table.header_labels if label_headers and file_format == "csv" else None
    return table_response(table.columns, table.rows, file_format, header=header,
                          delimiter=parameters.csv_delimiter())


def _delete_records(parameters: Parameters, caller: Caller) -> HttpResponse:
    """Whole records only (records_delete: administrators; all or nothing). REDCap's partial
    deletions (one instrument, one instance, one arm or event) are refused rather than widened into
    a deletion of the whole record."""
    for partial in ("instrument", "repeat_instance", "event", "arm"):
        if parameters.given(partial):
            raise ApiError(
                BAD_REQUEST,
                f"Deleting part of a record ({partial}) is not supported: delete whole records, or import the "
                "record with overwriteBehavior=overwrite to erase values",
            )
    if parameters.flag("delete_logging"):
        raise ApiError(BAD_REQUEST, "The audit trail of deleted records is never deleted (delete_logging=1)")
    record_ids = parameters.array("records")
    if not record_ids:
        raise ApiError(BAD_REQUEST, "The parameter \"records\" is missing: name the records to delete")
    try:
        deleted = records_delete(record_ids=record_ids, user=caller.user, door=caller.door)
    except RecordLocked as locked:  # before PermissionDenied, which it is: the lock is named, not the role
        raise ApiError(FORBIDDEN, str(locked)) from None
    except PermissionDenied:
        raise ApiError(FORBIDDEN, "You do not have Delete Record privileges (administrators only)") from None
    except LookupError as error:
        missing = str(error).removeprefix("No record with the ID ")
        raise ApiError(
            BAD_REQUEST,
            "One or more of the records provided cannot be deleted because they do not exist in the project. "
            f"The following records do not exist: {missing}",
        ) from None
    # The number deleted: JSON `3`, and `3` as text in CSV and XML (PyCap's integration tests).
    if parameters.error_format() == "json":
        return value_response(len(deleted), "json", xml_tag="count")
    return value_response(len(deleted), "csv", xml_tag="count")


def _table(rows: list[dict], columns, parameters: Parameters) -> HttpResponse:
    return table_response(columns, [[row[column] for column in columns] for row in rows], export_format(parameters))
