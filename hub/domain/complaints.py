"""Complaints and suggestions (投诉建议): submitted for a household, replied to by staff,
rated by the household, escalated once when unanswered past a deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hub.domain.accounts import SYSTEM, Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid

MAX_PHOTOS = 5
MAX_CONTENT = 5000
MAX_REPLY = 5000
MAX_COMMENT = 500
# Unanswered this long after submission, a complaint is escalated to the site's managers.
RESPOND_WITHIN = timedelta(hours=24)


class ComplaintCategory(StrEnum):
    NOISE = "noise"
    SANITATION = "sanitation"
    SECURITY = "security"
    FACILITIES = "facilities"
    PARKING = "parking"
    NEIGHBOUR = "neighbour"
    STAFF = "staff"
    FEES = "fees"
    SUGGESTION = "suggestion"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    REPLIED = "replied"
    CLOSED = "closed"


UNANSWERED = (ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS)


@dataclass(eq=False)
class ComplaintReply:
    author_id: int
    body: str
    at: datetime
    id: int | None = None


@dataclass(eq=False)
class Complaint:
    site_id: int
    building_id: int
    unit_id: int
    submitted_by: int  # account id
    category: ComplaintCategory
    title: str
    content: str
    created_at: datetime
    respond_by: datetime
    photos: list[str] = field(default_factory=list)  # hub.media references
    status: ComplaintStatus = ComplaintStatus.NEW
    first_reply_at: datetime | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    id: int | None = None
    replies: list[ComplaintReply] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.title.strip() or len(self.title) > 200:
            raise Invalid("title must be 1-200 characters", field="title")
        if not self.content.strip() or len(self.content) > MAX_CONTENT:
            raise Invalid(f"content must be 1-{MAX_CONTENT} characters", field="content")
        if len(self.photos) > MAX_PHOTOS:
            raise Invalid(f"at most {MAX_PHOTOS} photos", field="photos")

    def reply(self, author_id: int, body: str, at: datetime) -> ComplaintReply:
        if self.status == ComplaintStatus.CLOSED:
            raise Conflict("the complaint is closed")
        if not body.strip() or len(body) > MAX_REPLY:
            raise Invalid(f"reply must be 1-{MAX_REPLY} characters", field="body")
        reply = ComplaintReply(author_id=author_id, body=body, at=at)
        self.replies.append(reply)
        self.status = ComplaintStatus.REPLIED
        if self.first_reply_at is None:
            self.first_reply_at = at
        return reply

    def move_to(self, status: ComplaintStatus, at: datetime) -> None:
        """Staff set a status by hand: in progress, or closed. Replied comes with a reply."""
        if self.status == ComplaintStatus.CLOSED:
            raise Conflict("the complaint is closed")
        if status == ComplaintStatus.REPLIED:
            raise Invalid("a complaint becomes replied by replying to it", field="status")
        if status == ComplaintStatus.NEW:
            raise Invalid("a complaint cannot go back to new", field="status")
        if status == ComplaintStatus.IN_PROGRESS and self.status == ComplaintStatus.REPLIED:
            raise Conflict("the complaint was replied to; reply again or close it")
        self.status = status
        if status == ComplaintStatus.CLOSED:
            self.closed_at = at

    def rate(self, score: int, comment: str, at: datetime) -> None:
        if self.status not in (ComplaintStatus.REPLIED, ComplaintStatus.CLOSED):
            raise Conflict("a complaint can be rated once it was replied to or closed")
        if self.rating is not None:
            raise Conflict("the complaint was already rated")
        if not 1 <= score <= 5:
            raise Invalid("satisfaction must be 1-5", field="satisfaction")
        if len(comment) > MAX_COMMENT:
            raise Invalid(f"comment must be at most {MAX_COMMENT} characters", field="comment")
        self.rating, self.rating_comment, self.rated_at = score, comment, at

    def escalate(self, at: datetime) -> None:
        if self.escalated_at is not None:
            raise Conflict("the complaint was already escalated")
        if self.status not in UNANSWERED:
            raise Conflict("only an unanswered complaint is escalated")
        self.escalated_at = at


@dataclass(eq=False)
class ComplaintEscalation:
    """One per complaint, by its primary key: two workers escalating at once store one."""

    complaint_id: int
    at: datetime
    reason: str


def overdue(complaint: Complaint, now: datetime) -> bool:
    """Unanswered past its respond-by time and not yet escalated: due for escalation."""
    return (complaint.status in UNANSWERED and complaint.escalated_at is None
            and now >= complaint.respond_by)


@dataclass(frozen=True, kw_only=True)
class SubmitComplaint(Command):
    unit_id: int
    category: ComplaintCategory
    title: str
    content: str
    photos: tuple[str, ...] = ()
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ReplyToComplaint(Command):
    complaint_id: int
    body: str
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ChangeComplaintStatus(Command):
    complaint_id: int
    status: ComplaintStatus
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class RateComplaint(Command):
    complaint_id: int
    satisfaction: int
    comment: str = ""
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class EscalateComplaint(Command):
    """By staff (at any time), or by the escalation job (`overdue` only)."""

    complaint_id: int
    at: datetime
    reason: str = "escalated by staff"
    only_if_overdue: bool = False
    actor: Actor = SYSTEM
