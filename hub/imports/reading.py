"""Reading a table out of the bytes of a CSV or .xlsx file, cells as the file holds them.

CSV: UTF-8 with or without a byte-order mark, else GB18030 (what Excel saves as "CSV" on a
Chinese Windows). Excel: the first worksheet of an .xlsx, values rather than formulas.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

MAX_COLUMNS = 64
MAX_CELL_CHARS = 1000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# What openpyxl, zipfile, zlib and the XML parser raise on a damaged file (found by fuzzing
# a template: flipped bytes, truncated members, unknown compression, encrypted entries).
_BROKEN = (zipfile.BadZipFile, zlib.error, SyntaxError, KeyError, IndexError, ValueError,
           TypeError, AttributeError, OSError, EOFError, NotImplementedError, RuntimeError,
           InvalidFileException)


class Unreadable(Exception):
    """The file is not a table this reader understands; the message says why."""


@dataclass
class Table:
    """Rows as (spreadsheet row number, cells); `more` is set when rows past the limit exist."""

    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    more: bool = False


def read_table(data: bytes, filename: str, max_rows: int) -> Table:
    """`max_rows` counts non-blank rows, the header included."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx(data, max_rows)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("an old Excel .xls file: save it as .xlsx or CSV")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise Unreadable("not a valid .xlsx file")
    return _csv(_decode(data), max_rows)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Unreadable("the file is neither UTF-8 nor GB18030 text") from None


def _csv(text: str, max_rows: int) -> Table:
    if "\x00" in text:
        raise Unreadable("the file holds binary data, not CSV text")
    table = Table()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # A record is a spreadsheet row: a quoted cell may span lines, and Excel still
        # numbers the record as one row.
        for number, record in enumerate(reader, start=1):
            if not _add(table, number, tuple(record[:MAX_COLUMNS]), max_rows):
                break
    except csv.Error as err:
        raise Unreadable(f"CSV cannot be read: {err}") from None
    return table


def _xlsx(data: bytes, max_rows: int) -> Table:
    _check_unpacked_size(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns of what it leaves out (styles, data validation, extensions):
            # nothing an import reads.
            warnings.simplefilter("ignore")
            return _xlsx_rows(data, max_rows)
    except _BROKEN as err:
        # Any of these from a damaged upload: a problem to report, not a server error.
        raise Unreadable(f"not a valid .xlsx file ({type(err).__name__})") from None


def _xlsx_rows(data: bytes, max_rows: int) -> Table:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise Unreadable("the workbook has no worksheet")
        sheet = book.worksheets[0]
        table = Table()
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        for number, cells in enumerate(rows, start=1):
            if not _add(table, number, tuple(cells), max_rows):
                break
        return table
    finally:
        book.close()


def _check_unpacked_size(data: bytes) -> None:
    """A few MB of zip can unpack to gigabytes (shared strings are read whole): refuse it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except _BROKEN as err:
        raise Unreadable(f"not a valid .xlsx file ({type(err).__name__})") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise Unreadable(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes")


def _add(table: Table, number: int, cells: tuple[Any, ...], max_rows: int) -> bool:
    """Keep a non-blank row; False once the limit is passed."""
    cells = tuple(c[:MAX_CELL_CHARS] if isinstance(c, str) else c for c in cells)
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return True
    if len(table.rows) >= max_rows:
        table.more = True
        return False
    table.rows.append((number, cells))
    return True
