"""Notifications: Notify from rules and escalations, the feed's read state, preferences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hub.domain.accounts import Role
from hub.domain.errors import Invalid, NotFound, PermissionDenied
from hub.domain.notifications import (
    Category,
    Notification,
    NotificationPreference,
    ReadAllNotifications,
    ReadNotification,
    SetNotificationPreferences,
)
from hub.domain.outcomes import Notify
from hub.notify.directory import SqlDirectory
from hub.notify.notifier import Notifier
from hub.ports import UnitOfWork

MAX_TITLE = 200


def add_notifications(uow: UnitOfWork, account_ids: Iterable[int], *, category: Category,
                      title: str, body: str, at: datetime, site_id: int | None = None,
                      link: str | None = None, rule_id: str | None = None
                      ) -> list[Notification]:
    """One feed row per account (each once), in the caller's transaction."""
    rows = [Notification(account_id=a, category=category, title=title[:MAX_TITLE], body=body,
                         created_at=at, site_id=site_id, link=link, rule_id=rule_id)
            for a in sorted(set(account_ids))]
    for row in rows:
        uow.add(row)
    return rows


async def notify(cmd: Notify, uow: UnitOfWork, directory: SqlDirectory,
                 notifier: Notifier) -> int:
    """A role in a site and/or the residents of a building; returns how many were notified.
    Staff get it as an alert (never held by quiet hours), residents as a general notice."""
    if cmd.role is None and cmd.building_id is None and cmd.unit_id is None:
        raise Invalid("Notify needs a role, a building or a unit", field="role")
    recipients: set[int] = set()
    if cmd.role == Role.RESIDENT:  # the role of residents: every resident of the site
        recipients |= set(await directory.residents(cmd.at.date(), site_id=cmd.site_id))
    elif cmd.role is not None:
        recipients |= set(await directory.staff(cmd.site_id, cmd.role))
    if cmd.building_id is not None:
        recipients |= set(await directory.residents(cmd.at.date(),
                                                    building_ids=[cmd.building_id]))
    if cmd.unit_id is not None:
        recipients |= set(await directory.residents(cmd.at.date(), unit_ids=[cmd.unit_id]))
    staff = cmd.role is not None and cmd.role != Role.RESIDENT
    category = Category.ALERT if staff else Category.GENERAL
    rows = add_notifications(uow, recipients, category=category, title=cmd.title,
                             body=cmd.body, at=cmd.at, site_id=cmd.site_id,
                             rule_id=cmd.cause.rule_id)
    await uow.commit()
    await notifier.deliver(rows, cmd.at)
    return len(rows)


async def _own(uow: UnitOfWork, account_id: int, notification_id: int) -> Notification:
    found = await uow.get(Notification, notification_id)
    if found is None or found.account_id != account_id:
        raise NotFound("notification", notification_id)
    return found


async def read_notification(cmd: ReadNotification, uow: UnitOfWork) -> None:
    (await _own(uow, cmd.actor.account_id, cmd.notification_id)).mark_read(cmd.at)
    await uow.commit()


async def read_all_notifications(cmd: ReadAllNotifications, uow: UnitOfWork) -> int:
    unread = await uow.find(Notification, account_id=cmd.actor.account_id, read_at=None)
    for row in unread:
        row.mark_read(cmd.at)
    await uow.commit()
    return len(unread)


async def set_notification_preferences(cmd: SetNotificationPreferences,
                                       uow: UnitOfWork) -> None:
    if cmd.actor.account_id == 0:
        raise PermissionDenied("the system has no preferences")
    wanted = NotificationPreference(account_id=cmd.actor.account_id, channels=cmd.channels,
                                    quiet_start=cmd.quiet_start, quiet_end=cmd.quiet_end,
                                    timezone=cmd.timezone)
    stored = await uow.get(NotificationPreference, cmd.actor.account_id)
    if stored is None:
        uow.add(wanted)
    else:
        stored.channels = {k: list(v) for k, v in wanted.channels.items()}
        stored.quiet_start, stored.quiet_end = wanted.quiet_start, wanted.quiet_end
        stored.timezone = wanted.timezone
    await uow.commit()


COMMAND_HANDLERS: dict[type, Any] = {
    Notify: notify,
    ReadNotification: read_notification,
    ReadAllNotifications: read_all_notifications,
    SetNotificationPreferences: set_notification_preferences,
}
