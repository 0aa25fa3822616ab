"""One row's cells turned into typed values; each value that cannot be is a problem, named by
row and column, and the row goes on so that every problem of the row is reported at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from hub.domain import national_id
from hub.domain.errors import Invalid
from hub.imports.columns import Header, Kind
from hub.imports.report import Problem, shown

E = TypeVar("E")

# Year first, always: 2026-11-27, 2026/11/27, 2026.11.27, 2026年11月27日 (and 2026/1/5).
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_FORMS = "YYYY-MM-DD, YYYY/MM/DD or an Excel date cell"


def _decimal_problem(number: Decimal | None, places: int, *, positive: bool) -> str:
    if number is None:
        return "must be a number like 89.75"
    if positive and number <= 0:
        return "must be more than 0"
    if number < 0:
        return "must not be negative"
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return f"more than {places} decimal places; round it in the file"
    return ""


class RowCells:
    def __init__(self, kind: Kind, header: Header, number: int, cells: tuple[Any, ...]) -> None:
        self.number = number
        self.problems: list[Problem] = []
        self.header = header
        self._masked = {c.field: c.masked for c in kind.columns}
        self._raw = {f: (cells[i] if i < len(cells) else None) for f, i in header.index.items()}

    def raw(self, field: str) -> Any:
        value = self._raw.get(field)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def problem(self, field: str, reason: str, value: object = ...) -> None:
        cell = self._raw.get(field) if value is ... else value
        self.problems.append(Problem(self.number, self.header.name(field),
                                     shown(cell, masked=self._masked.get(field, "")), reason))

    def text(self, field: str, *, required: bool = True, max_chars: int = 200) -> str | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.problem(field, "required")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed in a text column: 18 floors, room 301
        if isinstance(value, (datetime, date)):
            self.problem(field, "a date where text is expected")
            return None
        text = str(value).strip()
        if len(text) > max_chars:
            self.problem(field, f"longer than {max_chars} characters")
            return None
        return text

    def integer(self, field: str, *, required: bool = True) -> int | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.problem(field, "required")
            return None
        if isinstance(value, (bool, datetime, date)):
            self.problem(field, "must be a whole number")
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = str(value).strip()
        if re.fullmatch(r"[+-]?[0-9]{1,9}", text):
            return int(text)
        self.problem(field, "must be a whole number")
        return None

    def decimal(self, field: str, *, places: int, required: bool = True,
                positive: bool = False) -> Decimal | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.problem(field, "required")
            return None
        if isinstance(value, (bool, datetime, date)):
            self.problem(field, "must be a number")
            return None
        # repr of an Excel float is its shortest exact spelling: 89.75, not 89.7500000000001
        text = repr(value) if isinstance(value, float) else str(value).strip().replace(",", "")
        number = Decimal(text) if _DECIMAL.fullmatch(text) else None
        reason = _decimal_problem(number, places, positive=positive)
        if reason:
            self.problem(field, reason)
            return None
        return number

    def day(self, field: str, *, required: bool = True) -> date | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.problem(field, "required")
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        match = _DATE.fullmatch(str(value).strip())
        if match is None:
            self.problem(field, f"not a date: write {DATE_FORMS}")
            return None
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            self.problem(field, "no such day")
            return None

    def choice(self, field: str, choices: Mapping[str, E], *,
               required: bool = True) -> E | None:
        text = self.text(field, required=required, max_chars=40)
        if text is None:
            return None
        found = choices.get(text.lower())
        if found is None:
            names = sorted({k for k in choices if k.isascii()})
            self.problem(field, "must be one of " + ", ".join(names)
                         + " (or its Chinese name)")
        return found

    def national_id(self, field: str) -> str | None:
        """The normalised number, or a problem that shows only its mask."""
        value = self.raw(field)
        if value is None:
            return None
        if isinstance(value, (int, float)):
            # Excel keeps 15 significant digits: an 18-digit number cell has lost its last ones.
            self.problem(field, "stored as a number, which loses digits: format the column "
                                "as text and type the number again")
            return None
        try:
            return national_id.normalise(str(value))
        except Invalid as err:
            self.problem(field, err.message)
            return None

    def check(self, err: Invalid, fields: Mapping[str, str] | None = None) -> None:
        """A domain object's refusal, reported on the column it names."""
        field = (fields or {}).get(err.field or "", err.field or "")
        self.problem(field, err.message)
