"""Cutting a stay into charged periods and cap windows, on the site's wall clock.

Units are laid end to end from the moment charging starts. Each unit takes its length and
price from the hours in which it STARTS (a night unit starting at 07:30 runs to 08:30 at the
night price) and is never cut at a boundary; a unit that has started is charged in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from hub.domain.parking.tariff import Cap, CapWindow, NightRate, Tariff, TariffMode

DAY = timedelta(hours=24)
FOREVER = timedelta(days=400)


@dataclass(frozen=True)
class Charge:
    kind: str  # "first_period", "day", "night" or "entry"
    start: datetime
    end: datetime  # the end of the last unit, which may lie after the exit
    units: int
    unit_price: Decimal
    unit_minutes: int


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def _local(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone)


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def is_night(night: NightRate | None, moment: datetime, zone: tzinfo | None) -> bool:
    return night is not None and night.covers(_local(moment, zone).time().replace(tzinfo=None))


def _next_change(night: NightRate, moment: datetime, zone: tzinfo | None) -> datetime:
    """The first instant after `moment` at which night starts or ends."""
    day = _local(moment, zone).date()
    candidates = (datetime.combine(day + timedelta(days=k), at, tzinfo=zone).astimezone(UTC)
                  for k in (0, 1, 2) for at in (night.start, night.end))
    return min(c for c in candidates if c > moment)


def charges(tariff: Tariff, start: datetime, exit_: datetime, zone: tzinfo | None,
            windows: Windows) -> list[Charge]:
    """The charged periods from `start` to `exit_`; a period ends where day or night ends
    and where a cap window ends, so that each lies in one window and one rate."""
    start, exit_ = start.astimezone(UTC), exit_.astimezone(UTC)
    if start >= exit_:
        return []
    if tariff.mode is TariffMode.PER_ENTRY:
        return [Charge("entry", start.astimezone(zone), exit_.astimezone(zone), 1,
                       tariff.entry_price, 0)]
    found: list[Charge] = []
    at = start
    if tariff.first_period_minutes and not is_night(tariff.night, at, zone):
        length = timedelta(minutes=tariff.first_period_minutes)
        found.append(Charge("first_period", at.astimezone(zone), (at + length).astimezone(zone),
                            1, tariff.first_period_price, tariff.first_period_minutes))
        at += length
    while at < exit_:
        night = is_night(tariff.night, at, zone)
        rate = tariff.night if night and tariff.night else None
        minutes = rate.unit_minutes if rate else tariff.unit_minutes
        unit = timedelta(minutes=minutes)
        bound = exit_ if tariff.night is None else min(exit_, _next_change(tariff.night, at,
                                                                            zone))
        bound = min(bound, windows.of(at).end)
        units = -((at - bound) // unit)  # started units: a ceiling
        found.append(Charge("night" if night else "day", at.astimezone(zone),
                            (at + units * unit).astimezone(zone), units,
                            rate.unit_price if rate else tariff.unit_price, minutes))
        at += units * unit
    return found


@dataclass(frozen=True)
class Windows:
    cap: Cap | None
    anchor: datetime
    zone: tzinfo | None

    def of(self, moment: datetime) -> Window:
        moment = moment.astimezone(UTC)
        if self.cap is None:
            return Window(self.anchor, self.anchor + FOREVER)
        if self.cap.window is CapWindow.CALENDAR_DAY:
            day = _local(moment, self.zone).date()
            return Window(_midnight(day, self.zone), _midnight(day + timedelta(days=1),
                                                               self.zone))
        start = self.anchor + ((moment - self.anchor) // DAY) * DAY
        return Window(start, start + DAY)


def windows_of(cap: Cap | None, entry: datetime, prior_entries: Sequence[datetime],
               zone: tzinfo | None) -> Windows:
    """Rolling windows start at the entry of the earliest earlier stay that entered less than
    24 hours before this one (else at this entry) and follow every 24 hours."""
    entry = entry.astimezone(UTC)
    recent = [p.astimezone(UTC) for p in prior_entries if entry - DAY < p.astimezone(UTC) <= entry]
    return Windows(cap, min(recent, default=entry), zone)
