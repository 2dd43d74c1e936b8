"""content=record import: REDCap's flat record import onto records_import (all or nothing).

Parameters (REDCap API help, "Import Records"; PyCap's `import_records` sends them all):
- `data` the records, `format` csv or json (xml is refused), `type` flat;
- `overwriteBehavior` normal (a blank value leaves the stored one) or overwrite (a blank erases it);
- `returnContent` count (`{"count": n}`: the records in the file, changed or not, as REDCap counts
  them; in JSON with `"warnings"` beside it when a value written raised a soft check), ids (their record IDs), nothing; auto_ids and `forceAutoNumber=true` are refused: record
  IDs are the sites' own, never numbered by the registry;
- `dateFormat` YMD (YYYY-MM-DD), MDY (MM/DD/YYYY) or DMY (DD/MM/YYYY): dates given so are turned
  into YYYY-MM-DD before the import reads them; `csvDelimiter` as for exports.

Sites are REDCap's data access groups. A new record goes to the token user's site when the user
may change exactly one site (a coordinator of one site: REDCap's user in a data access group).
A user who may change several sites (administrators, coordinators of several) names each new
record's site in the `redcap_data_access_group` column (the site code, REDCap's unique group name),
as REDCap's users outside a group do; without it a new record is refused. The column never moves a
stored record to another site. A record of a site the user may not see is refused without saying
where it is.

Errors: a file with any problem writes nothing and answers 400, one line per problem in REDCap's
form `"record","field","value","message"` (the message ends with the row and instance).
"""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal

import ijson
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from registry.models import Site
from registry.records.flat_source import checked_csv_rows
from registry.records.import_result import ImportProblem
from registry.records.instruments import RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT
from registry.records.json_depth import JSONTooDeep, check_json_depth
from registry.selectors.access import access_for
from registry.records.missing_codes import is_missing_code
from registry.services.records import records_import

from . import project
from .parameters import BAD_REQUEST, FORBIDDEN, SPOOL_BYTES, ApiError, Parameters
from .project import ACCESS_GROUP
from .responses import CONTENT_TYPES, XML_DECLARATION, value_response

# REDCap ignores these pseudo-fields in an import (API help: survey identifier and timestamps).
IGNORED_COLUMNS = frozenset({"redcap_survey_identifier"})
DATE_FORMATS = ("YMD", "MDY", "DMY")
_SLASHED_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
DATE_FORMAT_TEXT = {"MDY": "MM/DD/YYYY", "DMY": "DD/MM/YYYY"}


@dataclass
class PreparedUpload:
    """The upload rewritten for records_import: dates in YYYY-MM-DD, without the data access group
    and ignored columns; what the rewrite learnt on the way."""

    source: object  # a seekable binary file
    records: list[str] = field(default_factory=list)  # record IDs in the order they first appear
    access_groups: dict[str, tuple[str, int]] = field(default_factory=dict)  # record -> (site code, line)
    problems: list[ImportProblem] = field(default_factory=list)


def import_records(parameters: Parameters, *, user, token_prefix: str) -> HttpResponse:
    file_format = parameters.get("format", "xml").lower() or "xml"
    if file_format not in ("csv", "json"):
        raise ApiError(BAD_REQUEST, f"Records are imported as csv or json, not {file_format}")
    if parameters.choice("type", ("flat", "eav"), "flat") != "flat":
        raise ApiError(BAD_REQUEST, "Records are imported in the flat format only (type=flat)")
    overwrite = parameters.choice("overwriteBehavior", ("normal", "overwrite"), "normal")
    return_content = parameters.choice("returnContent", ("count", "ids", "nothing", "auto_ids"), "count")
    date_format = parameters.choice("dateFormat", DATE_FORMATS, "YMD")
    if return_content == "auto_ids" or parameters.flag("forceAutoNumber"):
        raise ApiError(BAD_REQUEST, "Record auto-numbering is not used in this project: import records with their IDs")
    if parameters.data is None:
        if parameters.data_sent:  # REDCap's answer to an import without records
            raise ApiError(BAD_REQUEST, "The data being imported is not formatted correctly: the data parameter is "
                                        "empty, so there are no records to import")
        raise ApiError(BAD_REQUEST, "The data parameter is missing: it holds the records to import")
    access = access_for(user)
    if not access.can_write:
        raise ApiError(FORBIDDEN, "You do not have API Import/Update privileges")

    if file_format == "json":
        try:
            check_json_depth(parameters.data)  # before ijson builds one list per bracket
        except JSONTooDeep as error:
            raise ApiError(BAD_REQUEST, f"The data parameter cannot be read: {error}") from None
    prepared = prepare_upload(parameters.data, file_format, date_format, parameters.csv_delimiter())
    try:
        sites_by_record = _sites_named(prepared, user)
        home_site = _home_site(user)
        result = records_import(
            source=prepared.source, file_format=file_format, site=home_site, user=user,
            dry_run=bool(prepared.problems), overwrite_behavior=overwrite, door=f"redcap api: token {token_prefix}",
            sites_by_record=sites_by_record,
        )
    except PermissionDenied as error:
        raise ApiError(FORBIDDEN, str(error)) from None
    finally:
        prepared.source.close()
    problems = _merged(prepared.problems, result.problems)
    if problems:
        raise ApiError(BAD_REQUEST, problems_text(problems, file_format))
    return _import_answer(prepared.records, return_content, parameters.error_format(), result.warnings)


def _home_site(user) -> Site | None:
    """Where new records go without a data access group: the one site the user may change, if one."""
    site_ids = access_for(user).site_ids
    if site_ids is not None and len(site_ids) == 1:
        return Site.objects.get(id=next(iter(site_ids)))
    return None


def _sites_named(prepared: PreparedUpload, user) -> dict[str, Site]:
    """The sites named in redcap_data_access_group, each checked: one the user may change."""
    if not prepared.access_groups:
        return {}
    access = access_for(user)
    codes = {code for code, _ in prepared.access_groups.values()}
    sites = {site.code: site for site in Site.objects.filter(code__in=codes) if access.can_change_site(site.id)}
    found = {}
    for record, (code, line) in prepared.access_groups.items():
        if code in sites:
            found[record] = sites[code]
        else:
            prepared.problems.append(ImportProblem(
                line, record, "enrollment", "", ACCESS_GROUP, code,
                "is not a data access group (site code) whose records you may add or change",
            ))
    return found


def _merged(own: list[ImportProblem], service: list[ImportProblem]) -> list[ImportProblem]:
    """The rewrite's problems and the import's, by line; a cell the rewrite already reported (a date
    not in the dateFormat) is not reported twice."""
    reported = {(problem.line, problem.field) for problem in own}
    merged = own + [problem for problem in service if (problem.line, problem.field) not in reported]
    return sorted(merged, key=lambda problem: (problem.line is not None, problem.line or 0))


def problems_text(problems: list[ImportProblem], file_format: str) -> str:
    """REDCap's import error: one `"record","field","value","message"` line per problem."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n", quoting=csv.QUOTE_ALL)
    place = "row" if file_format == "csv" else "item"
    for problem in problems:
        where = []
        if problem.line is not None:
            where.append(f"{place} {problem.line}")
        if problem.instance:
            where.append(f"{problem.instrument} instance {problem.instance}")
        message = problem.reason + (f" ({', '.join(where)})" if where else "")
        writer.writerow([problem.record, problem.field, problem.value, message])
    return output.getvalue().rstrip("\n")


def _import_answer(records: list[str], return_content: str, file_format: str, warnings=()) -> HttpResponse:
    """REDCap's answer. Soft checks of the values written (accepted: registry/records/soft_checks.py)
    are added only where a REDCap client tolerates them: a "warnings" list beside "count" in the JSON
    answer of returnContent=count, when there are any (PyCap returns that object as it is, and takes
    only an "error" key for a failure). The csv and xml answers, the ids list and "nothing" stay
    exactly REDCap's; the REST API and the admin answer the same warnings there."""
    if return_content == "nothing":
        return HttpResponse("{}" if file_format == "json" else "", content_type=CONTENT_TYPES[file_format])
    if return_content == "ids":
        if file_format == "json":
            return HttpResponse(json.dumps(records, ensure_ascii=False), content_type=CONTENT_TYPES["json"])
        if file_format == "csv":
            return HttpResponse("".join(f"{line}\n" for line in ["id", *records]), content_type=CONTENT_TYPES["csv"])
        ids = "".join(f"<id>{record}</id>" for record in records)
        return HttpResponse(f"{XML_DECLARATION}<ids>{ids}</ids>", content_type=CONTENT_TYPES["xml"])
    if file_format == "json":
        answer = {"count": len(records)}
        if warnings:
            answer["warnings"] = [warning.as_json() for warning in warnings]
        return HttpResponse(json.dumps(answer, ensure_ascii=False), content_type=CONTENT_TYPES["json"])
    return value_response(len(records), file_format, xml_tag="count")


# ---------------------------------------------------------------- the rewrite of the upload


def prepare_upload(data, file_format: str, date_format: str, delimiter: str = ",") -> PreparedUpload:
    """Reads the upload once, row by row, into a new temporary file for records_import. An upload
    this cannot read is given to records_import as it is, which says what is wrong with it."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    prepared = PreparedUpload(source=target)
    data.seek(0)
    try:
        if file_format == "csv":
            _rewrite_csv(data, target, prepared, date_format, delimiter)
        else:
            _rewrite_json(data, target, prepared, date_format)
    except (csv.Error, UnicodeDecodeError, ijson.JSONError, _Unreadable):
        target.close()
        data.seek(0)
        return PreparedUpload(source=_copy(data))
    target.seek(0)
    return prepared


class _Unreadable(Exception):
    """Not a file this rewrite reads (records_import will say why)."""


def _copy(data):
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    while chunk := data.read(1024 * 1024):
        copy.write(chunk)
    copy.seek(0)
    return copy


class _RowNotes:
    """What each row tells the rewrite: its record, its data access group, its dates."""

    def __init__(self, prepared: PreparedUpload, date_format: str):
        self.prepared = prepared
        self.date_format = date_format
        self.dates = project.date_columns()
        self.seen: set[str] = set()

    def note(self, line: int, cells: dict[str, str]) -> dict[str, str]:
        """The row's cells to import, dates rewritten; records the record and its group."""
        record = cells.get(RECORD_ID, "").strip()
        if record and record not in self.seen:
            self.seen.add(record)
            self.prepared.records.append(record)
        group = cells.pop(ACCESS_GROUP, "").strip()
        if group and record:
            named = self.prepared.access_groups.get(record)
            if named is None:
                self.prepared.access_groups[record] = (group, line)
            elif named[0] != group:
                self.prepared.problems.append(ImportProblem(
                    line, record, cells.get(REPEAT_INSTRUMENT, "") or "enrollment", cells.get(REPEAT_INSTANCE, ""),
                    ACCESS_GROUP, group, f"names another data access group than row {named[1]} ({named[0]})",
                ))
        for name in IGNORED_COLUMNS:
            cells.pop(name, None)
        if self.date_format != "YMD":
            for name in self.dates & cells.keys():
                cells[name] = self._date(line, record, cells, name)
        return cells

    def _date(self, line: int, record: str, cells: dict[str, str], name: str) -> str:
        text = cells[name].strip()
        match = _SLASHED_DATE.match(text)
        if not text or re.match(r"^\d{4}-\d{2}-\d{2}$", text) or is_missing_code(text):
            return text  # a missing-data code is no date: records_import says whether the field takes it
        if match:
            first, second, year = match.groups()
            month, day = (first, second) if self.date_format == "MDY" else (second, first)
            return f"{year}-{int(month):02d}-{int(day):02d}"
        self.prepared.problems.append(ImportProblem(
            line, record, project.form_of_column(name) or "", cells.get(REPEAT_INSTANCE, ""), name, text,
            f"is not a date in {DATE_FORMAT_TEXT[self.date_format]} format (dateFormat={self.date_format})",
        ))
        return text


def _rewrite_csv(data, target, prepared: PreparedUpload, date_format: str, delimiter: str) -> None:
    """Same rows in the same order (blank ones too), so that records_import's row numbers are the
    upload's; written comma-separated whatever the upload's delimiter. Quoting faults are the
    rewrite's to report: rewritten, the file would be well quoted."""
    text = io.TextIOWrapper(data, encoding="utf-8-sig", newline="")
    output = io.TextIOWrapper(target, encoding="utf-8", newline="")
    try:
        def quoting_fault(line, field_name, value, reason):
            prepared.problems.append(ImportProblem(line, "", "", "", field_name, value, reason))

        reader = (cells for _, cells in checked_csv_rows(text, quoting_fault, delimiter))
        writer = csv.writer(output, lineterminator="\n")
        header = next(reader, None)
        if header is None:
            if prepared.problems:  # the header's quoting: nothing else can be read
                output.flush()
                return
            raise _Unreadable
        names = [name.strip() for name in header]
        kept = [position for position, name in enumerate(names) if name != ACCESS_GROUP and name not in IGNORED_COLUMNS]
        writer.writerow([header[position] for position in kept])
        notes = _RowNotes(prepared, date_format)
        for line, cells in enumerate(reader, start=2):
            if cells is None:  # reported: a blank row in its place keeps the rows' numbers
                writer.writerow([])
                continue
            if not any(cell.strip() for cell in cells) or len(cells) != len(names):
                writer.writerow(cells)  # records_import reports a row of the wrong length
                continue
            noted = notes.note(line, dict(zip(names, cells)))
            writer.writerow([noted.get(names[position], cells[position]) for position in kept])
        output.flush()
    finally:
        text.detach()
        output.detach()


def _scalar_text(value):
    """A JSON value as records_import reads it (registry/records/flat_source.py `_json_text`)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value  # a string, or a list or object (refused by records_import)


def _rewrite_json(data, target, prepared: PreparedUpload, date_format: str) -> None:
    start = data.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    data.seek(0)
    if not start.startswith(b"["):
        raise _Unreadable
    notes = _RowNotes(prepared, date_format)
    target.write(b"[")
    for line, item in enumerate(ijson.items(data, "item", use_float=False), start=1):
        if isinstance(item, dict):
            cells = {name: _scalar_text(value) for name, value in item.items()}
            texts = {name: value for name, value in cells.items() if isinstance(value, str)}
            noted = notes.note(line, dict(texts))
            item = {name: noted[name] if name in texts else value
                    for name, value in cells.items() if name in noted or name not in texts}
        target.write(b"," if line > 1 else b"")
        target.write(json.dumps(item, ensure_ascii=False, default=_json_default).encode("utf-8"))
    target.write(b"]")


def _json_default(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON")
