"""Reads of the notification feed and of preferences."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import BindParameter, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.domain.notifications import DEFAULT_CHANNELS, Channel
from hub.store.notice_tables import notification_preferences, notifications
from hub.views.property import ACCOUNT, HouseholdList

n = notifications


def feed_query(account_id: int | BindParameter[Any], *, unread: bool | None = None,
               category: str | None = None, after_id: int | None = None) -> Select[Any]:
    query = select(n.c.id, n.c.category, n.c.title, n.c.body, n.c.site_id, n.c.link,
                   n.c.rule_id, n.c.created_at, n.c.read_at).where(
        n.c.account_id == account_id).order_by(n.c.id.desc())
    if unread is not None:
        query = query.where(n.c.read_at.is_(None) if unread else n.c.read_at.is_not(None))
    if category is not None:
        query = query.where(n.c.category == category)
    if after_id is not None:
        query = query.where(n.c.id > after_id)
    return query


async def newest_id(session: AsyncSession, account_id: int) -> int:
    return int(await session.scalar(select(func.max(n.c.id)).where(
        n.c.account_id == account_id)) or 0)


@functools.cache
def my_feed(unread: bool | None, category: str | None) -> HouseholdList:
    """An account's own notifications (hub.views.property.household_params), newest first."""
    return HouseholdList.of(feed_query(ACCOUNT, unread=unread, category=category))


_UNREAD = select(func.count()).select_from(n).where(n.c.account_id == ACCOUNT,
                                                    n.c.read_at.is_(None))


async def unread_count(db: AsyncSession | AsyncConnection, account_id: int) -> int:
    return int(await db.scalar(_UNREAD, {"account_id": account_id}) or 0)


async def preferences(session: AsyncSession, account_id: int) -> dict[str, Any]:
    """Stored choices over the defaults, so the answer always names every category."""
    row = (await session.execute(select(notification_preferences).where(
        notification_preferences.c.account_id == account_id))).first()
    chosen = dict(row.channels) if row is not None else {}
    channels = {category.value: sorted(chosen.get(category.value,
                                                  [c.value for c in defaults]))
                for category, defaults in DEFAULT_CHANNELS.items()}
    for values in channels.values():
        if Channel.IN_APP.value not in values:
            values.insert(0, Channel.IN_APP.value)
    return {"channels": channels,
            "quiet_start": row.quiet_start if row is not None else None,
            "quiet_end": row.quiet_end if row is not None else None,
            "timezone": row.timezone if row is not None else "Asia/Shanghai"}


def live_data(row: Mapping[str, Any]) -> dict[str, Any]:
    """A feed row as the live stream sends it (hub.notify.notifier.present)."""
    return {"id": row["id"], "category": str(row["category"]), "title": row["title"],
            "body": row["body"], "site_id": row["site_id"], "link": row["link"],
            "rule_id": row["rule_id"], "created_at": row["created_at"].isoformat(),
            "read": row["read_at"] is not None}
