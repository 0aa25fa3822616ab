"""Complaints and suggestions as residents and staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from hub.api.schemas.common import In, Out
from hub.domain.complaints import (
    MAX_COMMENT,
    MAX_REPLY,
    ComplaintCategory,
    ComplaintStatus,
)


class ReplyOut(Out):
    id: int
    body: str
    at: datetime


class StaffReplyOut(ReplyOut):
    author_id: int


class MyComplaintOut(Out):
    id: int
    unit_id: int
    category: ComplaintCategory
    title: str
    content: str
    photo_count: int
    status: ComplaintStatus
    created_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    replies: list[ReplyOut]


class ComplaintOut(MyComplaintOut):
    site_id: int
    building_id: int
    submitted_by: int
    respond_by: datetime
    escalated_at: datetime | None
    rated_at: datetime | None
    replies: list[StaffReplyOut]  # type: ignore[assignment]


class ReplyIn(In):
    body: Annotated[str, Field(min_length=1, max_length=MAX_REPLY)]


class StatusIn(In):
    status: ComplaintStatus


class RateIn(In):
    satisfaction: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] = ""


class EscalateIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "escalated by staff"
