"""REDCap API answers: tables and values as JSON, CSV or XML, streamed when large, and errors.

What clients parse (PyCap's redcap/request.py): JSON with `response.json()`, CSV and XML as text;
an answer is an error when its JSON object has an "error" key, its CSV text starts with "ERROR:",
or its XML holds `<error>`. REDCap writes errors in the request's returnFormat (else its format,
else XML): `{"error": "..."}`, `ERROR: ...`, and
`<?xml version="1.0" encoding="UTF-8" ?><hash><error>...</error></hash>` (REDCap API help,
"Error Messages"). REDCapR reads any status but 200 as a failure, so successes are 200.
"""
from __future__ import annotations

import csv
import io
import json
from json.encoder import encode_basestring
from operator import add
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from django.http import HttpResponse, StreamingHttpResponse

from .parameters import ApiError

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" ?>'
CHUNK_CHARACTERS = 64 * 1024  # text gathered before each write to the client


def error_response(error: ApiError, return_format: str) -> HttpResponse:
    if return_format == "json":
        body = json.dumps({"error": error.message}, ensure_ascii=False)
    elif return_format == "csv":
        body = f"ERROR: {error.message}"
    else:
        return_format = "xml"
        body = f"{XML_DECLARATION}\n<hash>\n  <error>{escape(error.message)}</error>\n</hash>"
    return HttpResponse(body, status=error.status, content_type=CONTENT_TYPES[return_format])


def text_response(text: str) -> HttpResponse:
    """A bare value (the REDCap version, a record name): plain text in every format, as REDCap sends it."""
    return HttpResponse(text, content_type=CONTENT_TYPES["text"])


def value_response(value: int | str, file_format: str, *, xml_tag: str) -> HttpResponse:
    """A count: `3` in JSON and CSV, `<count>3</count>` in XML (PyCap's integration tests)."""
    if file_format == "xml":
        return HttpResponse(f"{XML_DECLARATION}<{xml_tag}>{escape(str(value))}</{xml_tag}>",
                            content_type=CONTENT_TYPES["xml"])
    return HttpResponse(json.dumps(value) if file_format == "json" else str(value),
                        content_type=CONTENT_TYPES[file_format])


def object_response(item: dict, file_format: str, *, xml_root: str) -> HttpResponse:
    """One object (project information): a JSON object, a one-row CSV, or one XML element."""
    if file_format == "json":
        return HttpResponse(json.dumps(item, ensure_ascii=False), content_type=CONTENT_TYPES["json"])
    if file_format == "csv":
        return HttpResponse("".join(csv_lines(list(item), [list(item.values())])), content_type=CONTENT_TYPES["csv"])
    fields = "".join(f"<{key}>{escape(_text(value))}</{key}>" for key, value in item.items())
    return HttpResponse(f"{XML_DECLARATION}\n<{xml_root}>{fields}</{xml_root}>\n", content_type=CONTENT_TYPES["xml"])


def table_response(columns: Sequence[str], rows: Iterable[Sequence], file_format: str, *,
                   header: Sequence[str] | None = None, stream: bool = False, delimiter: str = ",") -> HttpResponse:
    """Rows of `columns` as a JSON list of objects, a CSV table (`header`: other header texts, e.g.
    labels; `delimiter` REDCap's csvDelimiter) or XML `<records><item>...</item></records>`;
    `stream` writes them as they are made."""
    if file_format == "json":
        chunks = json_lines(columns, rows)
    elif file_format == "csv":
        chunks = csv_lines(header or columns, rows, delimiter=delimiter)
    else:
        chunks = xml_lines(columns, rows)
    if stream:
        return StreamingHttpResponse(gathered(chunks), content_type=CONTENT_TYPES[file_format])
    return HttpResponse("".join(chunks), content_type=CONTENT_TYPES[file_format])


def gathered(pieces: Iterable[str]) -> Iterator[bytes]:
    """Joins small pieces of text into chunks of about CHUNK_CHARACTERS, as UTF-8."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_CHARACTERS:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
            size = 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


def _text(value) -> str:
    return "" if value is None else str(value)


def json_lines(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """A JSON list of objects, one per row, written row by row. Values are written as given: the
    records' are all strings, as REDCap exports them (and those take a faster path)."""
    keys = [f"{json.dumps(column)}: " for column in columns]
    yield "["
    separator = ""
    for row in rows:
        yield separator
        if all(type(value) is str for value in row):
            yield "{" + ", ".join(map(add, keys, map(encode_basestring, row))) + "}"
        else:
            yield json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
        separator = ",\n"
    yield "]"


def csv_lines(header: Sequence[str], rows: Iterable[Sequence], *, delimiter: str = ",") -> Iterator[str]:
    """A CSV table with LF line ends and minimal quoting, like REDCap's own exports; written in
    pieces of about CHUNK_CHARACTERS (None is written as blank, as the csv module writes it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARACTERS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xml_lines(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """REDCap's XML export shape: `<records><item><field>value</field>...</item>...</records>`."""
    yield f"{XML_DECLARATION}\n<records>\n"
    for row in rows:
        yield "<item>"
        for column, value in zip(columns, row, strict=True):
            yield f"<{column}>{escape(_text(value))}</{column}>"
        yield "</item>\n"
    yield "</records>\n"
