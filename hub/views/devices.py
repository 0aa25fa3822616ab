"""Reads of the device registry, device status and commands, and the dead letters.

Staff see a building's devices through the building and the site-wide ones (gates, street
lights) through the whole site, as hub.handlers.devices.visible_device decides for writes.
Dead letters name devices by key ("site/kind/device"), so they are scoped by site code: whole
sites only; a key that names no site (an unparseable topic) only administrators see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.store.device_tables import (
    counters,
    dead_letters,
    device_commands,
    device_state,
    devices,
    sequence_gaps,
)
from hub.store.tables import sites
from hub.views.scoping import building_filter

RECENT_GAPS = 20
LETTER_PREFIX = "dead_letter|"
DROPPED = "dead_letters_dropped"


def device_filter(actor: Actor) -> ColumnElement[bool]:
    if actor.is_resident:
        return false()
    return building_filter(actor, devices.c.site_id, devices.c.building_id)


def device_query(actor: Actor, *, site_id: int | None = None, kind: str | None = None,
                 building_id: int | None = None, approval: str | None = None,
                 online: bool | None = None) -> Select[Any]:
    query = (select(devices, device_state.c.online, device_state.c.last_seen)
             .outerjoin(device_state, device_state.c.device_id == devices.c.id)
             .where(device_filter(actor)).order_by(devices.c.id))
    for column, value in ((devices.c.site_id, site_id), (devices.c.kind, kind),
                          (devices.c.building_id, building_id),
                          (devices.c.approval, approval)):
        if value is not None:
            query = query.where(column == value)
    if online is True:
        query = query.where(device_state.c.online.is_(True))
    elif online is False:  # offline, or never heard of
        query = query.where(or_(device_state.c.online.is_(False),
                                device_state.c.online.is_(None)))
    return query


async def visible(session: AsyncSession, actor: Actor, device_id: int) -> None:
    query = select(devices.c.id).where(devices.c.id == device_id, device_filter(actor))
    if await session.scalar(query) is None:
        raise NotFound("device", device_id)


async def status(session: AsyncSession, actor: Actor, device_id: int) -> dict[str, Any]:
    await visible(session, actor, device_id)
    row = (await session.execute(select(device_state).where(
        device_state.c.device_id == device_id))).first()
    found: dict[str, Any] = dict(row._mapping) if row is not None else {
        "device_id": device_id, "online": None, "online_since": None, "offline_reason": None,
        "last_seen": None, "boot": "", "last_seq": None, "last_values": {}, "errors": {}}
    totals = (await session.execute(select(
        func.count(), func.coalesce(func.sum(sequence_gaps.c.last_missing
                                             - sequence_gaps.c.first_missing + 1), 0))
        .where(sequence_gaps.c.device_id == device_id))).one()
    recent = await session.execute(
        select(sequence_gaps.c.boot, sequence_gaps.c.first_missing,
               sequence_gaps.c.last_missing, sequence_gaps.c.detected_at)
        .where(sequence_gaps.c.device_id == device_id)
        .order_by(sequence_gaps.c.id.desc()).limit(RECENT_GAPS))
    found["gaps"] = {"count": int(totals[0]), "missing": int(totals[1]),
                     "recent": [dict(r._mapping) for r in recent]}
    return found


def command_query(device_id: int) -> Select[Any]:
    return select(device_commands).where(device_commands.c.device_id == device_id).order_by(
        device_commands.c.issued_at.desc(), device_commands.c.id)


async def command(session: AsyncSession, command_id: str) -> dict[str, Any]:
    row = (await session.execute(select(device_commands).where(
        device_commands.c.id == command_id))).one()
    return dict(row._mapping)


async def visible_site_codes(session: AsyncSession, actor: Actor) -> list[str] | None:
    """None: every site (administrators)."""
    if actor.all_sites:
        return None
    if actor.is_resident or not actor.whole_sites:
        return []
    rows = await session.scalars(select(sites.c.code).where(sites.c.id.in_(actor.whole_sites)))
    return list(rows)


def dead_letter_query(codes: list[str] | None, *, device_key: str | None = None,
                      reason: str | None = None) -> Select[Any]:
    query = select(dead_letters).order_by(dead_letters.c.id.desc())
    query = query.where(_by_site(dead_letters.c.device_key, codes, prefix=""))
    if device_key is not None:
        query = query.where(dead_letters.c.device_key == device_key)
    if reason is not None:
        query = query.where(dead_letters.c.reason == reason)
    return query


def letter_count_query(codes: list[str] | None, *, reason: str | None = None) -> Select[Any]:
    prefix = f"{LETTER_PREFIX}{reason}|" if reason is not None else LETTER_PREFIX
    return (select(counters.c.name, counters.c.value)
            .where(counters.c.name.like(f"{_escaped(prefix)}%", escape="#"),
                   _by_site(counters.c.name, codes, prefix=LETTER_PREFIX))
            .order_by(counters.c.value.desc(), counters.c.name))


def letter_count(row: dict[str, Any]) -> dict[str, Any]:
    """A `dead_letter|reason|site/kind/device` counter as {device_key, reason, count}."""
    _, reason, key = row["name"].split("|", 2)
    return {"device_key": None if key == "-" else key, "reason": reason,
            "count": int(row["value"])}


async def dropped(session: AsyncSession) -> int:
    return int(await session.scalar(select(counters.c.value).where(
        counters.c.name == DROPPED)) or 0)


def _by_site(column: ColumnElement[str], codes: list[str] | None,
             prefix: str) -> ColumnElement[bool]:
    if codes is None:
        return true()
    if not codes:
        return false()
    if prefix:  # a counter's name: dead_letter|<reason>|<site>/<kind>/<device>
        return or_(*(column.like(f"{_escaped(prefix)}%|{_escaped(code)}/%", escape="#")
                     for code in codes))
    return or_(*(column.like(f"{_escaped(code)}/%", escape="#") for code in codes))


def _escaped(text: str) -> str:
    """For LIKE with ESCAPE '#' (a backslash is read differently by each backend)."""
    return text.replace("#", "##").replace("%", "#%").replace("_", "#_")
