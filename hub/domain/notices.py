"""Announcements (社区公告): audience, schedule and expiry, pinning, keys, and read state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hub.domain.accounts import SYSTEM, Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_TARGETS = 500


class Audience(StrEnum):
    SITE = "site"  # everyone of the site
    BUILDINGS = "buildings"
    UNITS = "units"


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(eq=False)
class AnnouncementTarget:
    """One building, or one unit (with its building, so that building scope sees it)."""

    building_id: int
    unit_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Announcement:
    site_id: int
    title: str
    body: str
    audience: Audience
    created_at: datetime
    created_by: int
    pinned: bool = False
    status: NoticeStatus = NoticeStatus.DRAFT
    publish_at: datetime | None = None  # None: when published
    expires_at: datetime | None = None
    key: str | None = None
    # The key while the announcement is live, None after: a unique column, so that two
    # workers posting one key at once store one announcement.
    live_key: str | None = None
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    rule_id: str | None = None
    # Residents are to be told when it shows (a scheduled one: by the job, at its time).
    notify_pending: bool = False
    id: int | None = None
    targets: list[AnnouncementTarget] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_text(self.title, self.body)
        check_window(self.publish_at, self.expires_at)
        if self.audience == Audience.SITE and self.targets:
            raise Invalid("an announcement to the whole site names no buildings or units",
                          field="audience")
        if self.audience != Audience.SITE and not self.targets:
            raise Invalid(f"an announcement to {self.audience.value} needs at least one",
                          field=f"{self.audience.value[:-1]}_ids")
        if self.audience == Audience.UNITS and any(t.unit_id is None for t in self.targets):
            raise Invalid("every target of a units announcement is a unit", field="unit_ids")

    def publish(self, at: datetime) -> None:
        if self.status == NoticeStatus.WITHDRAWN:
            raise Conflict("a withdrawn announcement cannot be published again; post a new one")
        if self.status == NoticeStatus.PUBLISHED:
            return
        if self.expires_at is not None and self.expires_at <= at:
            raise Conflict("the announcement has already expired", field="expires_at")
        self.status = NoticeStatus.PUBLISHED
        self.published_at = at
        if self.publish_at is None:
            self.publish_at = at

    def withdraw(self, at: datetime) -> None:
        if self.status == NoticeStatus.WITHDRAWN:
            raise Conflict("the announcement is already withdrawn")
        self.status = NoticeStatus.WITHDRAWN
        self.withdrawn_at = at
        self.live_key = None

    def visible_at(self, at: datetime) -> bool:
        """What residents see: published, its time come, not expired."""
        return (self.status == NoticeStatus.PUBLISHED and self.publish_at is not None
                and self.publish_at <= at
                and (self.expires_at is None or at < self.expires_at))

    def live_at(self, at: datetime) -> bool:
        """Holds its key: not withdrawn and not expired (it may still wait for its time)."""
        return self.status != NoticeStatus.WITHDRAWN and \
            (self.expires_at is None or at < self.expires_at)


def check_text(title: str, body: str) -> None:
    if not title.strip() or len(title) > MAX_TITLE:
        raise Invalid(f"title must be 1-{MAX_TITLE} characters", field="title")
    if len(body) > MAX_BODY:
        raise Invalid(f"body must be at most {MAX_BODY} characters", field="body")


def check_window(publish_at: datetime | None, expires_at: datetime | None) -> None:
    if publish_at is not None and expires_at is not None and expires_at <= publish_at:
        raise Invalid("expires_at must be after publish_at", field="expires_at")


@dataclass(eq=False)
class AnnouncementRead:
    announcement_id: int
    account_id: int
    read_at: datetime


# Commands of staff and residents (the keyed ones of rules are in hub.domain.outcomes).


@dataclass(frozen=True, kw_only=True)
class CreateAnnouncement(Command):
    site_id: int
    title: str
    body: str
    audience: Audience = Audience.SITE
    building_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    pinned: bool = False
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    publish: bool = False  # publish now (at `publish_at`, if given)
    notify_residents: bool = False
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ChangeAnnouncement(Command):
    announcement_id: int
    changes: dict[str, object]
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class PublishAnnouncement(Command):
    announcement_id: int
    at: datetime
    notify_residents: bool = False
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class EndAnnouncement(Command):
    """Staff withdraw one announcement by id."""

    announcement_id: int
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class TellResidents(Command):
    """The job's: tell the residents of a scheduled announcement whose time has come."""

    announcement_id: int
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ReadAnnouncement(Command):
    announcement_id: int
    at: datetime
    actor: Actor = SYSTEM
