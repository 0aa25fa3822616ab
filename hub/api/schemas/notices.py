"""Announcements as staff and residents see them, and what staff send."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.notices import MAX_BODY, MAX_TARGETS, MAX_TITLE, Audience, NoticeStatus

Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE)]
Body = Annotated[str, Field(max_length=MAX_BODY)]


class AnnouncementIn(In):
    site_id: Id
    title: Title
    body: Body = ""
    audience: Audience = Audience.SITE
    building_ids: Annotated[list[Id], Field(max_length=MAX_TARGETS, default_factory=list)]
    unit_ids: Annotated[list[Id], Field(max_length=MAX_TARGETS, default_factory=list)]
    pinned: bool = False
    publish_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    publish: bool = Field(default=False, description="publish now (or at publish_at)")
    notify_residents: bool = Field(default=False,
                                   description="also put it in the residents' feeds")


class AnnouncementPatch(In):
    title: Title | None = None
    body: Body | None = None
    pinned: bool | None = None
    publish_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


class PublishIn(In):
    notify_residents: bool = False


class AnnouncementOut(Out):
    id: int
    site_id: int
    title: str
    body: str
    audience: Audience
    building_ids: list[int]
    unit_ids: list[int]
    pinned: bool
    status: NoticeStatus
    publish_at: datetime | None
    expires_at: datetime | None
    key: str | None
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    rule_id: str | None


class MyAnnouncementOut(Out):
    id: int
    site_id: int
    title: str
    body: str
    pinned: bool
    publish_at: datetime
    expires_at: datetime | None
    rule_id: str | None
    read: bool
