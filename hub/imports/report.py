"""What an import reports: every problem by row and column, and what was (or would be) done."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.domain.national_id import mask, mask_phone

MAX_VALUE_CHARS = 80


@dataclass(frozen=True, order=True)
class Problem:
    """`row` as the spreadsheet shows it (the header is row 1 in a file that starts with it);
    `column` as the file names it; `value` already masked when it is a national ID."""

    row: int
    column: str
    value: str
    reason: str

    def line(self, source: str) -> str:
        if self.row == 0:  # the file as a whole
            return f"{source}: {self.reason}"
        shown = self.value if self.value else "(empty)"
        return f"{source}:row {self.row}: {self.column}: {shown}: {self.reason}"


def shown(value: object, *, masked: str = "") -> str:
    """A cell's value for a report: trimmed, shortened, masked for a national ID or phone."""
    if value is None:
        return ""
    text = str(value).strip()
    if masked == "national_id":
        return mask(text.upper())
    if masked == "phone":
        return mask_phone(text)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


@dataclass
class Report:
    kind: str
    rows: int = 0  # data rows read (blank rows aside)
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0
    committed: bool = False
    header_row: int = 1

    @property
    def valid(self) -> int:
        """Rows without a problem of their own; none when the file or its header is wrong
        (problems on row 0 or the header row), for then no row was judged."""
        if any(p.row <= self.header_row for p in self.problems):
            return 0
        return self.rows - len({p.row for p in self.problems})

    def summary(self) -> str:
        done = "imported" if self.committed else "nothing written"
        verb = "created" if self.committed else "would create"
        return (f"{self.kind}: {self.rows} rows, {self.valid} valid, {len(self.problems)} "
                f"problems; {verb} {self.created}, unchanged {self.unchanged}; {done}")
