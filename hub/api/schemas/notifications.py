"""The notification feed and preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from hub.api.schemas.common import In, Out, Page
from hub.domain.notifications import Category, Channel


class NotificationOut(Out):
    id: int
    category: Category
    title: str
    body: str
    site_id: int | None
    link: str | None
    rule_id: str | None
    created_at: datetime
    read_at: datetime | None


class FeedPage(Page[NotificationOut]):
    unread: int


class ReadAllOut(Out):
    marked: int


HhMm = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["22:00"])]


class PreferencesIn(In):
    """Channels per category (in_app is always on); quiet hours hold back SMS and WeChat,
    alerts aside."""

    channels: dict[Category, Annotated[list[Channel], Field(max_length=3)]] = Field(
        default_factory=dict)
    quiet_start: HhMm | None = None
    quiet_end: HhMm | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "Asia/Shanghai"


class PreferencesOut(Out):
    channels: dict[str, list[str]]
    quiet_start: str | None
    quiet_end: str | None
    timezone: str
