"""Checks of an uploaded spreadsheet (CSV or Excel) before django-import-export opens it.

django-import-export reads the whole upload into memory and hands it to tablib: Python's csv module
forgives broken quoting (a quote never closed swallows the rows after it), and openpyxl inflates
every part of an .xlsx archive, so that a small file whose sheet expands to gigabytes (a zip bomb)
exhausts the server. These checks read only what is cheap: the CSV's rows, one at a time, and the
.xlsx archive's directory, whose declared sizes bound what inflating it can produce (Python's
zipfile never gives more bytes than an entry declares).
"""
import io
import zipfile

from .flat_source import checked_csv_rows

# An instrument's spreadsheet of the whole registry is a few MB; these leave ten times that room.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_XLSX_ENTRIES = 1000  # a workbook of one sheet has about a dozen parts
MAX_XLSX_COMPRESSION_RATIO = 100  # sheet XML compresses about 10:1; a bomb compresses 1000:1
RATIO_CHECKED_FROM_BYTES = 1024 * 1024  # small parts may compress well without harm
MAX_PROBLEMS = 20


def csv_file_problems(data: bytes, delimiter: str = ",") -> list[str]:
    """What is wrong with a CSV spreadsheet's structure, each problem with its line: quoting, and
    rows with more or fewer cells than the header. Empty when it is well formed (or not UTF-8
    text, which the import itself refuses)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    problems: list[str] = []

    def report(line, field_name, value, reason):
        problems.append(f"Line {line} {reason}.")

    width = None
    for line, cells in checked_csv_rows(io.StringIO(text, newline=""), report, delimiter):
        if len(problems) >= MAX_PROBLEMS:
            break
        if cells is None:
            continue
        if width is None:
            width = len(cells)
        elif any(cell.strip() for cell in cells) and len(cells) != width:
            problems.append(f"Line {line} has {len(cells)} values, but the header names {width} columns.")
    return problems[:MAX_PROBLEMS]


def xlsx_file_problems(data: bytes) -> list[str]:
    """Why an .xlsx upload is refused before it is opened: not a zip archive, too many parts, or
    parts that would inflate past MAX_XLSX_UNCOMPRESSED_BYTES or compress suspiciously well."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return ["The file is not an Excel workbook (.xlsx)."]
    if len(entries) > MAX_XLSX_ENTRIES:
        return [f"The workbook has {len(entries)} parts; an Excel workbook of this project has at most "
                f"{MAX_XLSX_ENTRIES}."]
    uncompressed = sum(entry.file_size for entry in entries)
    if uncompressed > MAX_XLSX_UNCOMPRESSED_BYTES:
        return [f"The workbook would take {uncompressed} bytes once opened, more than the "
                f"{MAX_XLSX_UNCOMPRESSED_BYTES} bytes a spreadsheet import may use."]
    for entry in entries:
        if entry.file_size >= RATIO_CHECKED_FROM_BYTES and entry.file_size > MAX_XLSX_COMPRESSION_RATIO * max(
            entry.compress_size, 1,
        ):
            return [f"The workbook's part {entry.filename} is compressed more than {MAX_XLSX_COMPRESSION_RATIO} "
                    "to 1, which no spreadsheet is: it is refused unopened."]
    return []
