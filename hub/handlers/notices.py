"""Announcements: staff create, change, publish and withdraw them; rules post and withdraw
keyed ones; residents mark them read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from typing import Any

from hub.bus import MessageBus
from hub.domain.accounts import Actor
from hub.domain.errors import Conflict, Invalid, NotFound, PermissionDenied
from hub.domain.notices import (
    Announcement,
    AnnouncementRead,
    AnnouncementTarget,
    Audience,
    ChangeAnnouncement,
    CreateAnnouncement,
    EndAnnouncement,
    NoticeStatus,
    PublishAnnouncement,
    ReadAnnouncement,
    TellResidents,
    check_text,
    check_window,
)
from hub.domain.notifications import Category, Notification
from hub.domain.outcomes import PostAnnouncement, WithdrawAnnouncement
from hub.domain.property import Unit
from hub.handlers.notifications import add_notifications
from hub.handlers.scope import managed_site, visible_building, visible_unit
from hub.notify.directory import SqlDirectory
from hub.notify.notifier import Notifier
from hub.ports import UnitOfWork

EDITABLE = frozenset({"title", "body", "pinned", "publish_at", "expires_at"})


def staff_sees(actor: Actor, a: Announcement) -> bool:
    """Whole-site staff see the site's announcements; building staff those to the whole
    site or to one of their buildings."""
    if actor.manages_site(a.site_id):
        return True
    if a.site_id not in actor.partial_sites:
        return False
    return a.audience == Audience.SITE or any(t.building_id in actor.buildings
                                              for t in a.targets)


def staff_may_change(actor: Actor, a: Announcement) -> bool:
    return actor.manages_site(a.site_id) or (
        a.audience != Audience.SITE and all(t.building_id in actor.buildings
                                            for t in a.targets))


async def visible_announcement(uow: UnitOfWork, actor: Actor, ident: int) -> Announcement:
    found = await uow.get(Announcement, ident)
    if found is None or actor.is_resident or not staff_sees(actor, found):
        raise NotFound("announcement", ident)
    return found


async def _changeable(uow: UnitOfWork, actor: Actor, ident: int) -> Announcement:
    found = await visible_announcement(uow, actor, ident)
    if not staff_may_change(actor, found):
        raise PermissionDenied("this announcement reaches beyond your buildings")
    return found


async def _targets(uow: UnitOfWork, cmd: CreateAnnouncement) -> list[AnnouncementTarget]:
    if cmd.audience == Audience.SITE:
        await managed_site(uow, cmd.actor, cmd.site_id)
        return []
    if cmd.audience == Audience.BUILDINGS:
        found = []
        for ident in dict.fromkeys(cmd.building_ids):
            building = await visible_building(uow, cmd.actor, ident)
            if building.site_id != cmd.site_id:
                raise NotFound("building", ident)
            found.append(AnnouncementTarget(building_id=ident))
        return found
    targets = []
    for ident in dict.fromkeys(cmd.unit_ids):
        unit = await visible_unit(uow, cmd.actor, ident)
        if unit.site_id != cmd.site_id:
            raise NotFound("unit", ident)
        targets.append(AnnouncementTarget(building_id=unit.building_id, unit_id=ident))
    return targets


async def create_announcement(cmd: CreateAnnouncement, uow: UnitOfWork,
                              directory: SqlDirectory, notifier: Notifier) -> int:
    announcement = Announcement(
        site_id=cmd.site_id, title=cmd.title, body=cmd.body, audience=cmd.audience,
        created_at=cmd.at, created_by=cmd.actor.account_id, pinned=cmd.pinned,
        publish_at=cmd.publish_at, expires_at=cmd.expires_at,
        targets=await _targets(uow, cmd))
    if cmd.publish:
        announcement.publish(cmd.at)
        announcement.notify_pending = cmd.notify_residents
    uow.add(announcement)
    await uow.flush()
    await _tell_residents(uow, announcement, cmd.at, directory, notifier)
    assert announcement.id is not None
    return announcement.id


async def change_announcement(cmd: ChangeAnnouncement, uow: UnitOfWork) -> None:
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on an announcement", field=name)
    announcement = await _changeable(uow, cmd.actor, cmd.announcement_id)
    if announcement.status == NoticeStatus.WITHDRAWN:
        raise Conflict("a withdrawn announcement cannot be changed")
    values = {f.name: getattr(announcement, f.name) for f in fields(announcement) if f.init}
    values.update(cmd.changes)
    check_text(values["title"], values["body"])
    check_window(values["publish_at"], values["expires_at"])
    for name, value in cmd.changes.items():
        setattr(announcement, name, value)
    if announcement.status == NoticeStatus.PUBLISHED and announcement.publish_at is None:
        announcement.publish_at = cmd.at  # a published one without a time shows from now
    await uow.commit()


async def publish_announcement(cmd: PublishAnnouncement, uow: UnitOfWork,
                               directory: SqlDirectory, notifier: Notifier) -> None:
    announcement = await _changeable(uow, cmd.actor, cmd.announcement_id)
    if announcement.status != NoticeStatus.PUBLISHED:
        announcement.publish(cmd.at)
        announcement.notify_pending = cmd.notify_residents
    await _tell_residents(uow, announcement, cmd.at, directory, notifier)


async def end_announcement(cmd: EndAnnouncement, uow: UnitOfWork) -> None:
    announcement = await _changeable(uow, cmd.actor, cmd.announcement_id)
    announcement.withdraw(cmd.at)
    await uow.commit()


async def read_announcement(cmd: ReadAnnouncement, uow: UnitOfWork) -> None:
    announcement = await uow.get(Announcement, cmd.announcement_id)
    if announcement is None or not await _reaches(uow, cmd.actor, announcement) \
            or not announcement.visible_at(cmd.at):
        raise NotFound("announcement", cmd.announcement_id)
    assert announcement.id is not None
    if await uow.get(AnnouncementRead, (announcement.id, cmd.actor.account_id)) is None:
        uow.add(AnnouncementRead(announcement.id, cmd.actor.account_id, cmd.at))
        await uow.commit()


async def _reaches(uow: UnitOfWork, actor: Actor, announcement: Announcement) -> bool:
    """Whether an announcement is addressed to one of a resident's current units."""
    if not actor.is_resident:
        return False
    for unit_id in actor.unit_ids:
        unit = await uow.get(Unit, unit_id)
        if unit is None or unit.site_id != announcement.site_id:
            continue
        if announcement.audience == Audience.SITE or any(
                t.unit_id == unit_id if t.unit_id is not None else t.building_id ==
                unit.building_id for t in announcement.targets):
            return True
    return False


async def post_announcement(cmd: PostAnnouncement, uow: UnitOfWork, directory: SqlDirectory,
                            notifier: Notifier) -> int:
    """Keyed: while one with the key is live, posting again changes nothing."""
    existing = await uow.find_one(Announcement, live_key=cmd.key)
    if existing is not None and existing.live_at(cmd.at):
        assert existing.id is not None
        return existing.id
    if existing is not None:  # expired: it lets go of the key
        existing.live_key = None
        await uow.flush()
    announcement = Announcement(
        site_id=cmd.site_id, title=cmd.title, body=cmd.body,
        audience=Audience.BUILDINGS if cmd.building_id is not None else Audience.SITE,
        created_at=cmd.at, created_by=cmd.actor.account_id, key=cmd.key, live_key=cmd.key,
        rule_id=cmd.cause.rule_id,
        targets=[AnnouncementTarget(building_id=cmd.building_id)]
        if cmd.building_id is not None else [])
    announcement.publish(cmd.at)
    announcement.notify_pending = cmd.notify_residents
    uow.add(announcement)
    try:
        await uow.flush()
    except Conflict:  # another worker stored the same key meanwhile: that one stands
        winner = await uow.find_one(Announcement, live_key=cmd.key)
        if winner is None or winner.id is None:
            raise
        return winner.id
    await _tell_residents(uow, announcement, cmd.at, directory, notifier)
    assert announcement.id is not None
    return announcement.id


async def withdraw_keyed_announcement(cmd: WithdrawAnnouncement, uow: UnitOfWork) -> int | None:
    existing = await uow.find_one(Announcement, live_key=cmd.key)
    if existing is None:
        return None
    existing.withdraw(cmd.at)
    await uow.commit()
    return existing.id


async def tell_residents(cmd: TellResidents, uow: UnitOfWork, directory: SqlDirectory,
                         notifier: Notifier) -> bool:
    announcement = await uow.get(Announcement, cmd.announcement_id)
    if announcement is None:
        raise NotFound("announcement", cmd.announcement_id)
    return await _tell_residents(uow, announcement, cmd.at, directory, notifier)


async def _tell_residents(uow: UnitOfWork, a: Announcement, at: datetime,
                          directory: SqlDirectory, notifier: Notifier) -> bool:
    """Commits the announcement; with it, once it shows and if residents are to be told,
    a feed row for each (the flag cleared in the same transaction: told once)."""
    rows: list[Notification] = []
    if a.notify_pending and a.visible_at(at):
        if a.audience == Audience.SITE:
            accounts = await directory.residents(at.date(), site_id=a.site_id)
        else:
            accounts = await directory.residents(
                at.date(), building_ids=[t.building_id for t in a.targets if t.unit_id is None],
                unit_ids=[t.unit_id for t in a.targets if t.unit_id is not None])
        rows = add_notifications(uow, accounts, category=Category.ANNOUNCEMENT, title=a.title,
                                 body=a.body[:500], at=at, site_id=a.site_id,
                                 link="/api/v1/me/announcements", rule_id=a.rule_id)
        a.notify_pending = False
    await uow.commit()
    await notifier.deliver(rows, at)
    return bool(rows) or not a.notify_pending


async def run_scheduled_announcements(bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
                                      now: datetime) -> list[int]:
    """The job (the lead schedules it): residents told of scheduled announcements whose time
    has come, once each. Returns the announcements told of by this run."""
    async with uow_factory() as uow:
        due = [a.id for a in await uow.find(Announcement, notify_pending=True,
                                            status=NoticeStatus.PUBLISHED)
               if a.id is not None and a.visible_at(now)]
    told = []
    for ident in due:
        if await bus.handle(TellResidents(announcement_id=ident, at=now)):
            told.append(ident)
    return told


COMMAND_HANDLERS: dict[type, Any] = {
    CreateAnnouncement: create_announcement,
    ChangeAnnouncement: change_announcement,
    PublishAnnouncement: publish_announcement,
    EndAnnouncement: end_announcement,
    ReadAnnouncement: read_announcement,
    TellResidents: tell_residents,
    PostAnnouncement: post_announcement,
    WithdrawAnnouncement: withdraw_keyed_announcement,
}
