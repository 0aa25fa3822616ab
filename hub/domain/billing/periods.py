"""Billing periods: a month "2026-11", a quarter "2026-Q4" or a year "2026"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hub.domain.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
# A reading taken on or before this day of a month measures the month before (meters are
# read in the first days of a month for the month that ended).
ATTRIBUTION_CUTOFF_DAY = 15


class Cycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


@dataclass(frozen=True, order=True)
class Period:
    """[start, end): `end` is the first day after the period."""

    start: date
    end: date
    cycle: Cycle

    @property
    def label(self) -> str:
        if self.cycle == Cycle.MONTHLY:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.cycle == Cycle.QUARTERLY:
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year:04d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> int:
        return {Cycle.MONTHLY: 1, Cycle.QUARTERLY: 3, Cycle.YEARLY: 12}[self.cycle]

    def previous(self) -> Period:
        return period_of(_add_months(self.start, -self.months), self.cycle)

    def due_date(self, due_day: int, prepaid: bool) -> date:
        """Prepaid fees fall due on `due_day` of the period's first month; postpaid ones on
        `due_day` of the month after the period."""
        month = self.start if prepaid else self.end
        return month.replace(day=due_day)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    try:
        return date(index // 12, index % 12 + 1, 1)
    except ValueError:  # before year 1 or after 9999
        raise Invalid(f"{day} is too far from our calendar to bill", field="period") from None


def period_of(day: date, cycle: Cycle) -> Period:
    """The period of `cycle` that contains `day`."""
    if cycle == Cycle.MONTHLY:
        start = date(day.year, day.month, 1)
    elif cycle == Cycle.QUARTERLY:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    else:
        start = date(day.year, 1, 1)
    months = {Cycle.MONTHLY: 1, Cycle.QUARTERLY: 3, Cycle.YEARLY: 12}[cycle]
    return Period(start, _add_months(start, months), cycle)


def parse_period(label: str) -> Period:
    """"2026-11", "2026-Q4" or "2026"; anything else is Invalid naming the field."""
    text = label
    try:
        if match := _MONTH.fullmatch(text):
            return period_of(date(int(match[1]), int(match[2]), 1), Cycle.MONTHLY)
        if match := _QUARTER.fullmatch(text):
            return period_of(date(int(match[1]), int(match[2]) * 3, 1), Cycle.QUARTERLY)
        if match := _YEAR.fullmatch(text):
            return period_of(date(int(match[1]), 1, 1), Cycle.YEARLY)
    except ValueError:
        pass
    raise Invalid(f"period {label!r} must look like 2026-11, 2026-Q4 or 2026", field="period")


def attributed_period(read_on: date, cutoff_day: int = ATTRIBUTION_CUTOFF_DAY) -> Period:
    """The month a reading measures: a reading taken on 3 December bills November."""
    month = period_of(read_on, Cycle.MONTHLY)
    return month.previous() if read_on.day <= cutoff_day else month
