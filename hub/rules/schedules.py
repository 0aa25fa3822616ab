"""When a schedule rule is due: sunrise, sunset or a local time, per site, once per trigger."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone

from hub.rules.loader import LoadedRule
from hub.rules.schema import Location
from hub.rules.sun import sun_times


def due_triggers(loaded: LoadedRule, now: datetime,
                 fired: Mapping[str, datetime]) -> Iterator[tuple[str, datetime, str]]:
    """(site, trigger time, what) for each site whose trigger passed within `catch_up` and
    has not fired yet; `fired` maps "rule|site" to the last trigger fired."""
    schedule = loaded.rule.when.schedule
    assert schedule is not None
    for site, location in sorted(schedule.sites.items()):
        last = fired.get(f"{loaded.id}|{site}")
        for day in (now.date() - timedelta(days=1), now.date(), now.date() + timedelta(days=1)):
            at = trigger_on(schedule.at, day, location)
            if at is None:
                continue
            at += schedule.offset
            if now - schedule.catch_up < at <= now and (last is None or at > last):
                yield site, at, schedule.at
                break


def trigger_on(what: str, day: date, location: Location) -> datetime | None:
    if what in ("sunrise", "sunset"):
        times = sun_times(day, location.latitude, location.longitude)
        return None if times is None else times[0 if what == "sunrise" else 1]
    hours, minutes = (int(p) for p in what.split(":"))
    sign = -1 if location.utc_offset.startswith("-") else 1
    off_h, off_m = (int(p) for p in location.utc_offset[1:].split(":"))
    zone = timezone(sign * timedelta(hours=off_h, minutes=off_m))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)
