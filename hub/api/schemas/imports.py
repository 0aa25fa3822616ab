"""The report of an import: its counts and every problem by row and column."""

from __future__ import annotations

from pydantic import BaseModel

from hub.imports.report import Report


class ProblemOut(BaseModel):
    row: int  # as the spreadsheet shows it; 0 for the file as a whole
    column: str
    value: str  # a national ID or phone appears masked
    reason: str


class ImportOut(BaseModel):
    kind: str
    rows: int
    valid: int
    problems: list[ProblemOut]
    created: int  # in a dry run: what a commit would create
    unchanged: int  # identical records already stored: skipped
    committed: bool

    @classmethod
    def of(cls, report: Report) -> ImportOut:
        return cls(kind=report.kind, rows=report.rows, valid=report.valid,
                   problems=[ProblemOut(row=p.row, column=p.column, value=p.value,
                                        reason=p.reason) for p in report.problems],
                   created=report.created, unchanged=report.unchanged,
                   committed=report.committed)
