"""Complaints and suggestions: residents submit and rate; staff reply, move and escalate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hub.bus import MessageBus
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.complaints import (
    RESPOND_WITHIN,
    ChangeComplaintStatus,
    Complaint,
    ComplaintEscalation,
    EscalateComplaint,
    RateComplaint,
    ReplyToComplaint,
    SubmitComplaint,
    overdue,
)
from hub.domain.errors import Conflict, NotFound, PermissionDenied
from hub.domain.notifications import Category
from hub.handlers.notifications import add_notifications
from hub.handlers.scope import visible_unit
from hub.notify.directory import SqlDirectory
from hub.notify.notifier import Notifier
from hub.ports import UnitOfWork


async def visible_complaint(uow: UnitOfWork, actor: Actor, ident: int) -> Complaint:
    """Residents: their households' complaints; staff: their sites' or buildings'."""
    found = await uow.get(Complaint, ident)
    if found is None or not actor.sees_unit(found.site_id, found.building_id, found.unit_id):
        raise NotFound("complaint", ident)
    return found


async def _as_staff(uow: UnitOfWork, actor: Actor, ident: int) -> Complaint:
    if actor.is_resident:
        raise NotFound("complaint", ident)
    return await visible_complaint(uow, actor, ident)


async def submit_complaint(cmd: SubmitComplaint, uow: UnitOfWork) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    complaint = Complaint(
        site_id=unit.site_id, building_id=unit.building_id, unit_id=cmd.unit_id,
        submitted_by=cmd.actor.account_id, category=cmd.category, title=cmd.title,
        content=cmd.content, created_at=cmd.at, respond_by=cmd.at + RESPOND_WITHIN,
        photos=list(cmd.photos))
    uow.add(complaint)
    await uow.commit()
    assert complaint.id is not None
    return complaint.id


async def reply_to_complaint(cmd: ReplyToComplaint, uow: UnitOfWork,
                             notifier: Notifier) -> int:
    complaint = await _as_staff(uow, cmd.actor, cmd.complaint_id)
    reply = complaint.reply(cmd.actor.account_id, cmd.body, cmd.at)
    rows = add_notifications(
        uow, [complaint.submitted_by] if complaint.submitted_by else [],
        category=Category.COMPLAINT, title=f"Reply to your complaint: {complaint.title}",
        body=cmd.body[:500], at=cmd.at, site_id=complaint.site_id,
        link=f"/api/v1/me/complaints/{complaint.id}")
    await uow.commit()
    await notifier.deliver(rows, cmd.at)
    assert reply.id is not None
    return reply.id


async def change_complaint_status(cmd: ChangeComplaintStatus, uow: UnitOfWork) -> None:
    complaint = await _as_staff(uow, cmd.actor, cmd.complaint_id)
    complaint.move_to(cmd.status, cmd.at)
    await uow.commit()


async def rate_complaint(cmd: RateComplaint, uow: UnitOfWork) -> None:
    if not cmd.actor.is_resident:
        raise PermissionDenied("the household rates its complaint")
    complaint = await visible_complaint(uow, cmd.actor, cmd.complaint_id)
    complaint.rate(cmd.satisfaction, cmd.comment, cmd.at)
    await uow.commit()


async def escalate_complaint(cmd: EscalateComplaint, uow: UnitOfWork, directory: SqlDirectory,
                             notifier: Notifier) -> bool:
    """Marks it escalated and notifies the site's managers, in one transaction, once.
    With `only_if_overdue` (the job), a complaint not or no longer due is left alone."""
    complaint = await _as_staff(uow, cmd.actor, cmd.complaint_id)
    if cmd.only_if_overdue and not overdue(complaint, cmd.at):
        return False
    complaint.escalate(cmd.at)
    assert complaint.id is not None
    # The key, not a lock: a worker escalating the same complaint meanwhile makes this
    # commit a Conflict, and nothing of it (managers told twice) is stored.
    uow.add(ComplaintEscalation(complaint_id=complaint.id, at=cmd.at, reason=cmd.reason))
    managers = await directory.staff(complaint.site_id, Role.MANAGER)
    rows = add_notifications(
        uow, managers, category=Category.ALERT,
        title=f"Complaint escalated: {complaint.title}",
        body=f"{cmd.reason}; submitted {complaint.created_at:%Y-%m-%d %H:%M} UTC, "
             f"respond by {complaint.respond_by:%Y-%m-%d %H:%M} UTC",
        at=cmd.at, site_id=complaint.site_id, link=f"/api/v1/complaints/{complaint.id}")
    await uow.commit()
    await notifier.deliver(rows, cmd.at)
    return True


COMMAND_HANDLERS: dict[type, Any] = {
    SubmitComplaint: submit_complaint,
    ReplyToComplaint: reply_to_complaint,
    ChangeComplaintStatus: change_complaint_status,
    RateComplaint: rate_complaint,
    EscalateComplaint: escalate_complaint,
}


async def run_complaint_escalation(bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
                                   now: datetime) -> list[int]:
    """The job (the lead schedules it): escalate every complaint unanswered past its
    respond-by time, once. Returns the ids escalated by this run."""
    async with uow_factory() as uow:
        candidates = [c for status in ("new", "in_progress")
                      for c in await uow.find(Complaint, status=status, escalated_at=None)
                      if overdue(c, now)]
        ids = [c.id for c in candidates if c.id is not None]
    escalated = []
    for ident in ids:
        try:
            done = await bus.handle(EscalateComplaint(
                complaint_id=ident, at=now, only_if_overdue=True, actor=SYSTEM,
                reason="unanswered past its respond-by time"))
        except Conflict:  # escalated meanwhile (staff, or another worker's run)
            continue
        if done:
            escalated.append(ident)
    return escalated
