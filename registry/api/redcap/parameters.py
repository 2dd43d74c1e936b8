"""A REDCap API request's parameters, and the errors that answer a bad one.

REDCap's API is one POST endpoint whose parameters are form fields (PyCap and REDCapR send them
form-encoded: `requests.post(url, data=payload)`, `httr::POST(encode = "form")`). Arrays come as
`fields[0]=a&fields[1]=b` (PyCap, REDCapR), `fields[]=a` (PHP clients) or `fields=a,b` (REDCap accepts
a comma-separated string too). Parameters REDCap does not know are ignored, as REDCap ignores them.

An import's `data` parameter may be as large as the registry: a form-encoded body is therefore read
here as a stream, `data` going to a temporary file (on disk past SPOOL_BYTES), never whole into
memory; Django's request.POST would hold it in memory and refuse it past DATA_UPLOAD_MAX_MEMORY_SIZE.
A multipart body (curl -F, some clients) goes through Django's own parser, with Django's limits.
"""
from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import BinaryIO
from urllib.parse import unquote_to_bytes

from django.utils import timezone

# Status codes as REDCap documents them (API help, "HTTP Status Codes"): 400 the request was
# invalid, 401 the API token was missing or incorrect, 403 no permission for this, 501 the requested
# method is not implemented.
BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
METHOD_NOT_ALLOWED = 405
PAYLOAD_TOO_LARGE = 413
NOT_IMPLEMENTED = 501
SERVICE_UNAVAILABLE = 503

CHUNK_BYTES = 64 * 1024
SPOOL_BYTES = 8 * 1024 * 1024  # `data` past this size waits on disk
MAX_BODY_BYTES = 2 * 1024 * 1024 * 1024  # an import's upper bound (the whole registry is far smaller)
MAX_VALUE_BYTES = 1024 * 1024  # any parameter but `data`
MAX_NAME_BYTES = 1024
MAX_PARAMETERS = 500_000  # records[0..n] of a large delete
DATA = "data"
FORMATS = ("json", "csv", "xml")
CSV_DELIMITERS = {",": ",", "tab": "\t", "\t": "\t", ";": ";", "|": "|", "^": "^"}
_INDEXED = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<index>\d*)\]$")
TRUE_TEXTS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_TEXTS = frozenset({"false", "0", "no", "n", "off", ""})


_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?: (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$", re.ASCII
)


def redcap_timestamp(text: str) -> datetime | None:
    """A time in the forms REDCap's API documents, as an aware datetime in the server's time zone;
    None for anything else.

    "YYYY-MM-DD HH:MM:SS" (PyCap sends this), "YYYY-MM-DD HH:MM" (REDCap's own logging times, and
    REDCapR's `redcap_log_read`), "YYYY-MM-DD" (midnight), and "24:00" as the end of its day, that
    is the next day's 00:00 (REDCapR sends `endTime=YYYY-MM-DD 24:00` for "up to the end of that
    day"; "24:00:00" likewise).
    """
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d")
    except ValueError:
        return None
    hour, minute, second = (int(match[part] or 0) for part in ("hour", "minute", "second"))
    if (hour, minute, second) == (24, 0, 0):
        if day.date() == date.max:
            return None
        return timezone.make_aware(day + timedelta(days=1))
    if hour > 23 or minute > 59 or second > 59:
        return None
    return timezone.make_aware(day.replace(hour=hour, minute=minute, second=second))


class ApiError(Exception):
    """Answers the request with a REDCap error: `status` and `message` (the body's error text)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Parameters:
    values: dict[str, list[str]] = field(default_factory=dict)  # every value of each name, in order
    data: BinaryIO | None = None  # the `data` parameter, as bytes in a seekable file

    def get(self, name: str, default: str = "") -> str:
        """A single-valued parameter: its last value (as PHP, and so REDCap, reads a repeated one)."""
        given = self.values.get(name)
        return given[-1].strip() if given else default

    def given(self, name: str) -> bool:
        return bool(self.get(name))

    @property
    def data_sent(self) -> bool:
        """Whether the request has a `data` parameter, even a blank one (then `data` is None)."""
        return self.data is not None or DATA in self.values

    def array(self, name: str) -> list[str]:
        """`name[0]=..&name[1]=..` (in index order), `name[]=..` and `name=a,b`, blanks dropped."""
        indexed: list[tuple[int, int, str]] = []
        for position, (key, texts) in enumerate(self.values.items()):
            match = _INDEXED.match(key)
            if key == name or (match and match["name"] == name):
                index = int(match["index"]) if match and match["index"] else -1
                indexed.extend((index, position, text) for text in texts)
        items = []
        for _, _, text in sorted(indexed, key=lambda item: (item[0], item[1])):
            items.extend(part.strip() for part in text.split(","))
        return [item for item in items if item]

    def flag(self, name: str) -> bool:
        """A boolean parameter: true/false as REDCap documents, 1/0, and Python's True/False (PyCap
        sends `forceAutoNumber=False`)."""
        text = self.get(name).lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
        raise ApiError(BAD_REQUEST, f"The value of the parameter \"{name}\" is not valid: '{text}' (true or false)")

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        """A parameter with a fixed set of values; blank is `default`."""
        text = self.get(name) or default
        if text not in allowed:
            raise ApiError(
                BAD_REQUEST,
                f"The value of the parameter \"{name}\" is not valid: '{text}' (one of {', '.join(allowed)})",
            )
        return text

    def timestamp(self, name: str) -> datetime | None:
        """A time as REDCap takes it (beginTime, endTime, dateRangeBegin, dateRangeEnd), in the
        server's time zone (settings.TIME_ZONE, UTC); None when blank. See redcap_timestamp."""
        text = self.get(name)
        if not text:
            return None
        moment = redcap_timestamp(text)
        if moment is None:
            raise ApiError(BAD_REQUEST, f"The value of the parameter \"{name}\" is not valid: '{text}' "
                                        "(a time as YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM or YYYY-MM-DD)")
        return moment

    def csv_delimiter(self) -> str:
        """REDCap's csvDelimiter: comma (default), tab, semicolon, pipe or caret."""
        text = self.get("csvDelimiter") or ","
        delimiter = CSV_DELIMITERS.get(text)
        if delimiter is None:
            raise ApiError(BAD_REQUEST, f"The value of the parameter \"csvDelimiter\" is not valid: '{text}' "
                                        "(',', 'tab', ';', '|' or '^')")
        return delimiter

    def error_format(self) -> str:
        """The format of an error's body: returnFormat, else format, else xml (REDCap's rule for
        error messages, and PyCap's `_get_format_key`, which reads the body the same way)."""
        for name in ("returnFormat", "format"):
            text = self.get(name).lower()
            if text in FORMATS:
                return text
        return "xml"

    def close(self) -> None:
        if self.data is not None:
            self.data.close()


def read_parameters(request) -> Parameters:
    """The request's parameters; raises ApiError for a body that is too large or malformed."""
    if request.content_type == "multipart/form-data":
        return _from_django(request)
    return _from_form_stream(request)


def _from_django(request) -> Parameters:
    parameters = Parameters(values={key: list(texts) for key, texts in request.POST.lists() if key != DATA})
    if DATA in request.FILES:
        parameters.data = request.FILES[DATA]
    elif request.POST.get(DATA):
        parameters.data = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        parameters.data.write(request.POST[DATA].encode("utf-8"))
    elif DATA in request.POST:
        parameters.values[DATA] = [""]  # sent blank: an import with nothing in it, not an export
    return parameters


class _Value:
    """One parameter's value being read: percent-decoded as its bytes arrive; an escape split by
    the end of a chunk waits for the next."""

    def __init__(self, name: str):
        self.name = name
        self.pending = b""
        self.size = 0
        self.sink: BinaryIO | bytearray = (
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) if name == DATA else bytearray()
        )

    def feed(self, raw: bytes) -> None:
        raw = self.pending + raw
        cut = len(raw)
        if raw.endswith(b"%"):
            cut -= 1
        elif len(raw) >= 2 and raw[-2:-1] == b"%":
            cut -= 2
        self.pending = raw[cut:]
        self._write(unquote_to_bytes(raw[:cut].replace(b"+", b" ")))

    def finish(self) -> BinaryIO | str:
        self._write(unquote_to_bytes(self.pending.replace(b"+", b" ")))
        if isinstance(self.sink, bytearray):
            return self.sink.decode("utf-8", errors="replace")
        self.sink.seek(0)
        return self.sink

    def _write(self, decoded: bytes) -> None:
        self.size += len(decoded)
        if isinstance(self.sink, bytearray):
            if self.size > MAX_VALUE_BYTES:
                raise ApiError(PAYLOAD_TOO_LARGE,
                               f"The parameter \"{self.name}\" is longer than {MAX_VALUE_BYTES} bytes")
            self.sink += decoded
        else:
            self.sink.write(decoded)


def _from_form_stream(request) -> Parameters:
    """Reads application/x-www-form-urlencoded (`a=1&b=2`) from the request body in chunks."""
    values: dict[str, list[str]] = defaultdict(list)
    parameters = Parameters()
    name = bytearray()
    value: _Value | None = None
    count = 0
    total = 0

    def finish_value() -> None:
        nonlocal value, count
        finished = value.finish()
        if value.name == DATA:
            if parameters.data is not None:
                parameters.data.close()
            parameters.data = finished if value.size else None  # a blank `data` is no data to read...
            if not value.size:
                finished.close()
                values[DATA].append("")  # ...but it was sent: an import with nothing in it, not an export
        else:
            values[value.name].append(finished)
        value = None
        count += 1
        if count > MAX_PARAMETERS:
            raise ApiError(PAYLOAD_TOO_LARGE, f"The request has more than {MAX_PARAMETERS} parameters")

    def decoded_name() -> str:
        text = unquote_to_bytes(bytes(name).replace(b"+", b" ")).decode("utf-8", errors="replace")
        name.clear()
        return text

    try:
        while chunk := request.read(CHUNK_BYTES):
            total += len(chunk)
            if total > MAX_BODY_BYTES:
                raise ApiError(PAYLOAD_TOO_LARGE, f"The request is larger than {MAX_BODY_BYTES} bytes")
            while chunk:
                if value is not None:
                    end = chunk.find(b"&")
                    if end == -1:
                        value.feed(chunk)
                        break
                    value.feed(chunk[:end])
                    finish_value()
                    chunk = chunk[end + 1:]
                    continue
                equals, end = chunk.find(b"="), chunk.find(b"&")
                if end != -1 and (equals == -1 or end < equals):  # a name without "=": an empty value
                    name.extend(chunk[:end])
                    if name:
                        value = _Value(decoded_name())
                        finish_value()
                    chunk = chunk[end + 1:]
                elif equals != -1:
                    name.extend(chunk[:equals])
                    value = _Value(decoded_name())
                    chunk = chunk[equals + 1:]
                else:
                    name.extend(chunk)
                    chunk = b""
                if len(name) > MAX_NAME_BYTES:
                    raise ApiError(BAD_REQUEST, "A parameter name is too long")
        if value is not None:
            finish_value()
        elif name:
            value = _Value(decoded_name())
            finish_value()
    except ApiError:
        if value is not None and not isinstance(value.sink, bytearray):
            value.sink.close()
        parameters.close()
        raise
    parameters.values = dict(values)
    return parameters
