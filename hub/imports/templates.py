"""Blank templates to fill in: the headers of a kind and one example row, as CSV or .xlsx."""

from __future__ import annotations

import csv
import io

import openpyxl
from openpyxl.styles import Font

from hub.imports.parse import kind_named

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_csv(kind_name: str) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese headers correctly."""
    kind = kind_named(kind_name)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in kind.columns])
    writer.writerow([c.example for c in kind.columns])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def template_xlsx(kind_name: str) -> bytes:
    """Every cell a text cell: an ID number or a room like 0301 keeps its digits."""
    kind = kind_named(kind_name)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind.name
    for i, column in enumerate(kind.columns, start=1):
        head = sheet.cell(row=1, column=i, value=column.header)
        head.font = Font(bold=column.required)
        example = sheet.cell(row=2, column=i, value=column.example)
        example.number_format = "@"
        letter = head.column_letter
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 6)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
