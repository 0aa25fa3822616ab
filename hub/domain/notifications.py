"""Notifications: the in-app feed, per-account channel preferences with quiet hours, and
rate limits per account and channel (a token bucket, given the time)."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.domain.accounts import SYSTEM, Actor
from hub.domain.commands import Command
from hub.domain.errors import Invalid


class Category(StrEnum):
    ALERT = "alert"  # faults and escalations for staff: never held back by quiet hours
    ANNOUNCEMENT = "announcement"
    COMPLAINT = "complaint"
    WORK_ORDER = "work_order"
    BILLING = "billing"
    GENERAL = "general"


class Channel(StrEnum):
    IN_APP = "in_app"  # the feed and its live stream: every notification goes there
    SMS = "sms"
    WECHAT = "wechat"


EXTERNAL = (Channel.SMS, Channel.WECHAT)
DEFAULT_CHANNELS: dict[Category, frozenset[Channel]] = {
    Category.ALERT: frozenset({Channel.IN_APP, Channel.SMS}),
    Category.ANNOUNCEMENT: frozenset({Channel.IN_APP, Channel.WECHAT}),
    Category.COMPLAINT: frozenset({Channel.IN_APP, Channel.WECHAT}),
    Category.WORK_ORDER: frozenset({Channel.IN_APP, Channel.WECHAT}),
    Category.BILLING: frozenset({Channel.IN_APP, Channel.WECHAT}),
    Category.GENERAL: frozenset({Channel.IN_APP}),
}
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(eq=False)
class Notification:
    account_id: int
    category: Category
    title: str
    body: str
    created_at: datetime
    site_id: int | None = None
    link: str | None = None  # e.g. "/api/v1/me/complaints/7"
    rule_id: str | None = None
    read_at: datetime | None = None
    id: int | None = None

    def mark_read(self, at: datetime) -> None:
        if self.read_at is None:
            self.read_at = at


@dataclass(eq=False)
class NotificationPreference:
    """Channels per category (missing categories take DEFAULT_CHANNELS) and quiet hours,
    "HH:MM" in `timezone`, during which only alerts go out beyond the app."""

    account_id: int
    channels: dict[str, list[str]] = field(default_factory=dict)
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        for category, chosen in self.channels.items():
            if category not in Category.__members__.values():
                raise Invalid(f"unknown category {category!r}", field=f"channels.{category}")
            for channel in chosen:
                if channel not in Channel.__members__.values():
                    raise Invalid(f"unknown channel {channel!r}", field=f"channels.{category}")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise Invalid("quiet hours need both quiet_start and quiet_end", field="quiet_end")
        for name in ("quiet_start", "quiet_end"):
            value = getattr(self, name)
            if value is not None and not HH_MM.match(value):
                raise Invalid(f"{name} must be HH:MM (00:00-23:59)", field=name)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {self.timezone!r}", field="timezone") from None


def in_quiet_hours(start: str, end: str, local: time) -> bool:
    """[start, end) in local time; a window past midnight (22:00-07:00) wraps."""
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish


def quiet_hours_end(end: str, zone: str, at: datetime) -> datetime:
    """The next `end` o'clock in `zone` after `at` (UTC): when a text held back during quiet
    hours goes out. Wall-clock arithmetic, so a daylight-saving change keeps the hour."""
    local = at.astimezone(ZoneInfo(zone))
    finish = datetime.combine(local.date(), time.fromisoformat(end), tzinfo=local.tzinfo)
    if finish <= local:
        finish += timedelta(days=1)
    return finish.astimezone(UTC)


@dataclass(frozen=True)
class Routing:
    send: frozenset[Channel]
    held: frozenset[Channel]  # chosen, but held back by quiet hours
    held_until: datetime | None = None  # when the held channels may send it


def route(preference: NotificationPreference | None, category: Category,
          at: datetime) -> Routing:
    """Which channels one notification goes to at `at`. The feed always has it."""
    if preference is None or category.value not in preference.channels:
        chosen = DEFAULT_CHANNELS[category]
    else:
        chosen = frozenset(Channel(c) for c in preference.channels[category.value])
    chosen |= {Channel.IN_APP}
    if (preference is None or preference.quiet_start is None or preference.quiet_end is None
            or category == Category.ALERT or not in_quiet_hours(
                preference.quiet_start, preference.quiet_end,
                at.astimezone(ZoneInfo(preference.timezone)).time())):
        return Routing(send=chosen, held=frozenset())
    held = frozenset(c for c in chosen if c in EXTERNAL)
    return Routing(send=chosen - held, held=held,
                   held_until=quiet_hours_end(preference.quiet_end, preference.timezone, at)
                   if held else None)


class TokenBucket:
    """At most `capacity` at once per key, refilled at `capacity` per `per_s` seconds.
    Time is given (seconds, monotonic); memory bounded by `max_keys` (least recent forgotten)."""

    def __init__(self, capacity: int, per_s: float, max_keys: int = 100_000) -> None:
        if capacity < 1 or per_s <= 0:
            raise Invalid("a rate limit needs capacity >= 1 and a positive period")
        self.capacity = capacity
        self.rate = capacity / per_s
        self.max_keys = max_keys
        self._state: OrderedDict[object, tuple[float, float]] = OrderedDict()

    def take(self, key: object, now: float) -> bool:
        tokens, last = self._state.get(key, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + max(0.0, now - last) * self.rate)
        allowed = tokens >= 1.0
        self._state[key] = (tokens - 1.0 if allowed else tokens, now)
        self._state.move_to_end(key)
        if len(self._state) > self.max_keys:
            self._state.popitem(last=False)
        return allowed


# Per channel: (messages, per seconds) for one account.
DEFAULT_LIMITS: dict[Channel, tuple[int, float]] = {
    Channel.IN_APP: (60, 60.0),
    Channel.SMS: (5, 3600.0),
    Channel.WECHAT: (30, 3600.0),
}


class RateLimits:
    def __init__(self, limits: dict[Channel, tuple[int, float]] | None = None) -> None:
        self._buckets = {channel: TokenBucket(n, per)
                         for channel, (n, per) in (limits or DEFAULT_LIMITS).items()}

    def allow(self, account_id: int, channel: Channel, now: float) -> bool:
        bucket = self._buckets.get(channel)
        return bucket is None or bucket.take(account_id, now)


@dataclass(frozen=True, kw_only=True)
class ReadNotification(Command):
    notification_id: int
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ReadAllNotifications(Command):
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class SetNotificationPreferences(Command):
    channels: dict[str, list[str]]
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "Asia/Shanghai"
    actor: Actor = SYSTEM

