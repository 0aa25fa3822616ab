"""Reads of complaints: staff in their sites or buildings, residents their households'."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.complaints import UNANSWERED
from hub.store.notice_tables import complaint_replies, complaints
from hub.views.scoping import building_filter

c = complaints


def _scope(actor: Actor) -> ColumnElement[bool]:
    if actor.is_resident:
        return c.c.unit_id.in_(actor.unit_ids) if actor.unit_ids else false()
    return building_filter(actor, c.c.site_id, c.c.building_id)


def complaint_query(actor: Actor, *, site_id: int | None = None,
                    building_id: int | None = None, unit_id: int | None = None,
                    status: str | None = None, category: str | None = None,
                    escalated: bool | None = None, overdue_at: datetime | None = None
                    ) -> Select[Any]:
    query = select(c).where(_scope(actor)).order_by(c.c.id.desc())
    for column, value in ((c.c.site_id, site_id), (c.c.building_id, building_id),
                          (c.c.unit_id, unit_id), (c.c.status, status),
                          (c.c.category, category)):
        if value is not None:
            query = query.where(column == value)
    if escalated is not None:
        query = query.where(c.c.escalated_at.is_not(None) if escalated
                            else c.c.escalated_at.is_(None))
    if overdue_at is not None:
        query = query.where(c.c.status.in_(UNANSWERED), c.c.respond_by <= overdue_at)
    return query


async def with_replies(session: AsyncSession, rows: list[dict[str, Any]], *,
                       for_staff: bool) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    replies: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        found = await session.execute(select(complaint_replies).where(
            complaint_replies.c.complaint_id.in_(ids)).order_by(complaint_replies.c.id))
        for r in found:
            reply = {"id": r.id, "body": r.body, "at": r.at}
            if for_staff:
                reply["author_id"] = r.author_id
            replies[r.complaint_id].append(reply)
    return [{**row, "photo_count": len(row["photos"]), "replies": replies[row["id"]]}
            for row in rows]
