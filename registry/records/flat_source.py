"""Reading a REDCap flat file (CSV or JSON) row by row, and keeping rows for a later pass.

Nothing here holds more than one row, or one batch of a spool: a FlatSource reads the file from
its start each time; a RowSpool keeps rows already read, pickled a batch at a time into a
temporary file, so that a later pass reads them back instead of parsing the file again.
"""
import csv
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import ijson

from .instruments import RECORD_ID, flat_columns

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
        reader = csv.reader(text)
        try:
            header = [name.strip() for name in next(reader, [])]
            known = set(flat_columns())
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
            for line, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line
                if len(cells) != width:
                    report(line, "", "", f"has {len(cells)} values, but the header names {width} columns")
                yield SourceRow(line, names, cells)
        except UnicodeDecodeError:
            raise UnreadableFile("is not a UTF-8 text file") from None
        except csv.Error as error:
            raise UnreadableFile(f"is not a readable CSV file ({error})") from None
    finally:
        # Leave the caller's file open: closing the wrapper would close it.
        text.detach()


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
    known = set(flat_columns())
    unknown_reported: set[str] = set()
    try:
        for line, item in enumerate(ijson.items(binary, "item", use_float=False), start=1):
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
    except UnicodeDecodeError:
        raise UnreadableFile("is not a UTF-8 text file") from None
