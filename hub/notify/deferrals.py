"""Texts held back by quiet hours, kept in the database until the hours end, so a restart
during the night loses none of them. The periodic pass (`Notifier.send_deferred`) runs in one
worker (under a lease): it sends what is due, then deletes the rows. A crash between the two
sends a text twice rather than never."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.notifications import Channel, Notification
from hub.store.notice_tables import notification_deferrals, notifications


@dataclass(frozen=True)
class Held:
    notification_id: int
    channel: Channel
    due_at: datetime


@dataclass(frozen=True)
class Due:
    deferral_id: int
    notification: Notification
    channel: Channel


class SqlDeferrals:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def hold(self, held: Sequence[Held]) -> None:
        if not held:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(insert(notification_deferrals), [
                {"notification_id": h.notification_id, "channel": h.channel.value,
                 "due_at": h.due_at} for h in held])

    async def due(self, now: datetime, limit: int) -> list[Due]:
        """The oldest `limit` deferrals due at `now`, with their notifications."""
        async with self._sessions() as session:
            rows = (await session.execute(
                select(notification_deferrals.c.id, notification_deferrals.c.channel,
                       Notification)
                .join(notifications, notifications.c.id ==
                      notification_deferrals.c.notification_id)
                .where(notification_deferrals.c.due_at <= now)
                .order_by(notification_deferrals.c.due_at, notification_deferrals.c.id)
                .limit(limit))).all()
            session.expunge_all()
        return [Due(int(row[0]), row[2], Channel(row[1])) for row in rows]

    async def release(self, deferral_ids: Sequence[int]) -> None:
        if not deferral_ids:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(delete(notification_deferrals).where(
                notification_deferrals.c.id.in_(list(deferral_ids))))
