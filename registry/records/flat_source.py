"""Reading a REDCap flat file (CSV or JSON) row by row, and keeping rows for a later pass.

Nothing here holds more than one row, or one batch of a spool: a FlatSource reads the file from
its start each time; a RowSpool keeps rows already read, pickled a batch at a time into a
temporary file, so that a later pass reads them back instead of parsing the file again.
"""
import csv
import io
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import ijson

from .instruments import RECORD_ID, all_flat_columns
from .json_depth import DepthCheckedReader, JSONTooDeep

# (line, field, value, reason) of a problem with the file itself rather than with one record.
FileProblem = Callable[[int | None, str, str, str], None]


class UnreadableFile(Exception):
    """The file cannot be read further; the message is the reason."""


class SourceRow:
    """One row: its line (CSV: row number in the file, header = 1; JSON: 1-based item index) and the
    known columns it gives, as stripped text."""

    __slots__ = ("line", "_names", "_values", "_cells")

    def __init__(self, line: int, names: list[str | None], values: list[str]):
        self.line = line
        self._names = names  # column of each value; None for a column the file should not have
        self._values = values
        self._cells: dict[str, str] | None = None

    def get(self, name: str) -> str:
        """One cell, without building the row's dictionary (each pass reads the key columns of
        every row but needs all columns only of its own rows)."""
        try:
            return self._values[self._names.index(name)].strip()
        except (ValueError, IndexError):
            return ""

    @property
    def cells(self) -> dict[str, str]:
        if self._cells is None:
            names = self._names
            if None in names:  # columns the file should not have
                self._cells = {name: value.strip() for name, value in zip(names, self._values) if name is not None}
            else:
                self._cells = dict(zip(names, map(str.strip, self._values)))
        return self._cells


class RowSpool:
    """Rows kept for a later pass, each with a key (the import's instrument), in the order added.

    Held in memory up to SPOOL_MEMORY_BYTES, then in a temporary file on disk. Reading them back
    costs a small fraction of parsing the file again (a JSON file especially: ijson builds every
    item, and every value is converted to its cell text)."""

    BATCH_ROWS = 1000

    def __init__(self):
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
        self._batch: list[tuple] = []

    def add(self, key: str, row: SourceRow) -> None:
        # A CSV file's rows share one list of column names: pickled once per batch.
        self._batch.append((key, row.line, row._names, row._values))
        if len(self._batch) >= self.BATCH_ROWS:
            self._write_batch()

    def rows(self) -> Iterator[tuple[str, SourceRow]]:
        """Every row added, with its key, in the order added (once: the spool is then closed)."""
        self._write_batch()
        self._file.seek(0)
        try:
            while True:
                try:
                    batch = pickle.load(self._file)
                except EOFError:
                    return
                for key, line, names, values in batch:
                    yield key, SourceRow(line, names, values)
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()

    def _write_batch(self) -> None:
        if self._batch:
            pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []


SPOOL_MEMORY_BYTES = 1024 * 1024  # then on disk


@contextmanager
def _opened(source):
    """A binary file positioned at its start: a path is opened here, a file object is rewound."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


class FlatSource:
    def __init__(self, source, file_format: str):
        if file_format not in ("csv", "json"):
            raise ValueError(f"file_format must be 'csv' or 'json', not {file_format!r}")
        self.source = source
        self.file_format = file_format

    def rows(self, report: FileProblem | None) -> Iterator[SourceRow]:
        """Every row from the start of the file; `report` (given on the first read only) hears of
        unknown columns and malformed rows. Raises UnreadableFile when reading cannot go on."""
        with _opened(self.source) as binary:
            if self.file_format == "csv":
                yield from _csv_rows(binary, report or _already_reported)
            else:
                yield from _json_rows(binary, report or _already_reported)


def _already_reported(line: int | None, field: str, value: str, reason: str) -> None:
    """Later passes read the same file again; its problems were reported by the first."""


def _csv_rows(binary, report: FileProblem) -> Iterator[SourceRow]:
    # utf-8-sig: spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        rows = checked_csv_rows(text, report)
        try:
            header = [name.strip() for name in next(rows, (1, []))[1] or []]
            known = set(all_flat_columns())
            names: list[str | None] = []
            for name in header:
                if name not in known:
                    report(1, name, "", "is not a column of this project's flat export")
                    names.append(None)
                elif name in names:
                    report(1, name, "", "appears more than once in the header")
                    names.append(None)
                else:
                    names.append(name)
            if RECORD_ID not in names:
                raise UnreadableFile("has no record_id column (the first line must be the header)")
            width = len(header)
            for line, (_, cells) in enumerate(rows, start=2):
                if cells is None or not any(cell.strip() for cell in cells):
                    continue  # a row whose quoting was reported, or a blank line
                if len(cells) != width:
                    report(line, "", "", f"has {len(cells)} values, but the header names {width} columns")
                yield SourceRow(line, names, cells)
        except UnicodeDecodeError:
            raise UnreadableFile("is not a UTF-8 text file") from None
    finally:
        # Leave the caller's file open: closing the wrapper would close it.
        text.detach()


# ---------------------------------------------------------------- CSV quoting, checked
#
# Python's csv reader forgives what it cannot read: a quote that is never closed swallows every line
# after it into one cell, a quote inside an unquoted value is kept as text, text after a closing
# quote is glued to the value. Each would import something else than the file says, so every row
# whose lines hold a quote is read again here, field by field, as RFC 4180 writes it. A fault's
# reason names its physical line (a quoted value may span lines), since the REST API's errors
# carry no line of their own.

_QUOTED_VALUE = re.compile(r'"(?:[^"]|"")*+"')


def _unquoted_value(delimiter: str) -> re.Pattern:
    return re.compile(f'[^"{re.escape(delimiter)}\r\n]*+')


class _LineCounter:
    """The text's lines, one at a time, for csv.reader; keeps the lines of the row being read."""

    def __init__(self, text):
        self.text = text
        self.lines_read = 0
        self.row_lines: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.text.readline()
        if not line:
            raise StopIteration
        self.lines_read += 1
        self.row_lines.append(line)
        return line

    def take_row(self) -> tuple[int, list[str]]:
        """The first line number and the lines of the row just read."""
        lines, self.row_lines = self.row_lines, []
        return self.lines_read - len(lines) + 1, lines


def checked_csv_rows(text, report: FileProblem, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None]]:
    """(first line, cells) of every row of a CSV text stream (opened with newline=""), blank rows
    included. A row whose quoting is broken is reported with the line of the fault and given as
    (first line, None), so that rows keep their numbers; a quote never closed ends the reading there
    (what follows it cannot be told apart)."""
    lines = _LineCounter(text)
    reader = csv.reader(lines, delimiter=delimiter)
    unquoted = _unquoted_value(delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            first_line, row_lines = lines.take_row()
            fault = _quoting_fault(row_lines, first_line, delimiter, unquoted)
            if fault is None:  # an unquoted value longer than csv's field limit
                fault = (first_line, f"cannot be read as CSV ({error})")
            report(fault[0], "", "", fault[1])
            return
        first_line, row_lines = lines.take_row()
        if any('"' in line for line in row_lines):
            fault = _quoting_fault(row_lines, first_line, delimiter, unquoted)
            if fault is not None:
                report(fault[0], "", "", fault[1])
                if fault[1].startswith(_NEVER_CLOSED):
                    return
                cells = None
        yield first_line, cells


_NEVER_CLOSED = "has a quote that is never closed"


def _quoting_fault(row_lines: list[str], first_line: int, delimiter: str, unquoted: re.Pattern):
    """(line, reason) of the first quoting fault of one row's text, or None."""
    raw = "".join(row_lines)
    end = len(raw.rstrip("\r\n"))

    def line_at(position: int) -> int:
        return first_line + sum(1 for _ in re.finditer("\r\n|\r|\n", raw[:position]))

    position = 0
    while True:
        if raw.startswith('"', position):
            quoted = _QUOTED_VALUE.match(raw, position)
            if quoted is None:
                line = line_at(position)
                return line, (f"{_NEVER_CLOSED}: the value it opens on line {line} would take in every "
                              "line after it")
            position = quoted.end()
            if position >= end:
                return None
            if raw[position] != delimiter:
                line = line_at(position)
                return line, f"has text after the closing quote of a quoted value, on line {line}"
        else:
            position = unquoted.match(raw, position).end()
            if position >= end:
                return None
            if raw[position] == '"':
                line = line_at(position)
                return line, (f"has a quote inside a value that is not quoted, on line {line} (a value with "
                              'a quote is written in quotes, its quotes doubled: "ab""c")')
            if raw[position] != delimiter:
                return None  # a line break: the end of the row
        position += 1


def _json_text(value) -> str | None:
    """A JSON value as REDCap cell text; None for a list or object, which no field can hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, str)):
        return str(value).strip()
    return None


_STRING = {str}


def _json_rows(binary, report: FileProblem) -> Iterator[SourceRow]:
    start = binary.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    binary.seek(0)
    if not start.startswith(b"["):
        raise UnreadableFile("is not a JSON list of records ([{...}, {...}])")
    known = set(all_flat_columns())
    unknown_reported: set[str] = set()
    try:
        for line, item in enumerate(ijson.items(DepthCheckedReader(binary), "item", use_float=False), start=1):
            if not isinstance(item, dict):
                report(line, "", "", "is not a record (an object of field names and values)")
                continue
            if known.issuperset(item) and set(map(type, item.values())) <= _STRING:
                # Known columns, every value a string (every row the REST API writes): the loop
                # below, without its steps.
                yield SourceRow(line, list(item), list(map(str.strip, item.values())))
                continue
            names: list[str | None] = []
            values: list[str] = []
            for name, value in item.items():
                if name not in known:
                    if name not in unknown_reported:
                        unknown_reported.add(name)
                        report(line, name, "", "is not a column of this project's flat export")
                    continue
                text = _json_text(value)
                if text is None:
                    report(line, name, str(value), "is a list or object, not a single value")
                    continue
                names.append(name)
                values.append(text)
            yield SourceRow(line, names, values)
    except ijson.JSONError as error:
        raise UnreadableFile(f"is not valid JSON ({error})") from None
    except JSONTooDeep as error:
        raise UnreadableFile(f"cannot be read: {error}") from None
    except UnicodeDecodeError:
        raise UnreadableFile("is not a UTF-8 text file") from None
