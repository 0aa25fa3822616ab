"""Tables of announcements, notifications and complaints, and their classical mapping."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

from hub.domain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintEscalation,
    ComplaintReply,
    ComplaintStatus,
)
from hub.domain.notices import (
    Announcement,
    AnnouncementRead,
    AnnouncementTarget,
    Audience,
    NoticeStatus,
)
from hub.domain.notifications import Category, Notification, NotificationPreference
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

# SQLite autoincrements only an INTEGER PRIMARY KEY; elsewhere the feed needs 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")

announcements = Table(
    "announcements", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("audience", EnumText(Audience), nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("status", EnumText(NoticeStatus), nullable=False),
    Column("publish_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("key", String(200), nullable=True, index=True),
    Column("live_key", String(200), nullable=True, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, nullable=False),  # an account id, 0 for the system
    Column("published_at", UtcDateTime, nullable=True),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    Column("rule_id", String(100), nullable=True),
    Column("notify_pending", Boolean, nullable=False, default=False),
)

announcement_targets = Table(
    "announcement_targets", metadata,
    Column("id", Integer, primary_key=True),
    Column("announcement_id", ForeignKey("announcements.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("building_id", ForeignKey("buildings.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("units.id"), nullable=True, index=True),
)

announcement_reads = Table(
    "announcement_reads", metadata,
    Column("announcement_id", ForeignKey("announcements.id", ondelete="CASCADE"),
           primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("read_at", UtcDateTime, nullable=False),
)

notifications = Table(
    "notifications", metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("site_id", ForeignKey("sites.id"), nullable=True),
    Column("category", EnumText(Category), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(200), nullable=True),
    Column("rule_id", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=True),
    Index("ix_notifications_account_id_id", "account_id", "id"),
)

# SMS and WeChat texts held back by the recipient's quiet hours, sent when the hours end
# (hub.notify.notifier.Notifier.send_deferred): a row until it went out.
notification_deferrals = Table(
    "notification_deferrals", metadata,
    Column("id", BigId, primary_key=True),
    Column("notification_id", BigId, ForeignKey("notifications.id", ondelete="CASCADE"),
           nullable=False),
    Column("channel", String(16), nullable=False),
    Column("due_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("notification_id", "channel", name="uq_notification_deferrals_channel"),
)

notification_preferences = Table(
    "notification_preferences", metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("channels", JSON, nullable=False),
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    Column("timezone", String(64), nullable=False),
)

complaints = Table(
    "complaints", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("building_id", ForeignKey("buildings.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("submitted_by", Integer, nullable=False),  # an account id, 0 for the system
    Column("category", EnumText(ComplaintCategory), nullable=False),
    Column("title", String(200), nullable=False),
    Column("content", Text, nullable=False),
    Column("photos", JSON, nullable=False),
    Column("status", EnumText(ComplaintStatus), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("respond_by", UtcDateTime, nullable=False),
    Column("first_reply_at", UtcDateTime, nullable=True),
    Column("escalated_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("rating", Integer, nullable=True),
    Column("rating_comment", String(500), nullable=True),
    Column("rated_at", UtcDateTime, nullable=True),
)

complaint_replies = Table(
    "complaint_replies", metadata,
    Column("id", Integer, primary_key=True),
    Column("complaint_id", ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("author_id", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

complaint_escalations = Table(
    "complaint_escalations", metadata,
    Column("complaint_id", ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", String(200), nullable=False),
)


def map_notices(mappers: registry) -> None:
    """Called once from hub.store.mapping.start_mappers."""
    mappers.map_imperatively(AnnouncementTarget, announcement_targets)
    mappers.map_imperatively(Announcement, announcements, properties={
        "targets": relationship(AnnouncementTarget, lazy="selectin",
                                cascade="all, delete-orphan",
                                order_by=announcement_targets.c.id),
    })
    mappers.map_imperatively(AnnouncementRead, announcement_reads)
    mappers.map_imperatively(Notification, notifications)
    mappers.map_imperatively(NotificationPreference, notification_preferences)
    mappers.map_imperatively(ComplaintReply, complaint_replies)
    mappers.map_imperatively(ComplaintEscalation, complaint_escalations)
    mappers.map_imperatively(Complaint, complaints, properties={
        "replies": relationship(ComplaintReply, lazy="selectin",
                                cascade="all, delete-orphan", order_by=complaint_replies.c.id),
    })
