"""The arrears reminder job (催缴提醒): households owing on overdue bills are told, privately.

`run_arrears_reminders(bus, uow_factory, now)` is one pass; the lead schedules it (e.g. daily
through hub.periodic). Each pass reads the unpaid overdue bills and the reminders of the last
`repeat_days` days, chooses with the pure `hub.domain.billing.arrears.choose_reminders`, and
for each chosen household sends `Notify(unit_id=…)` — the residents living in that unit on the
day, and nobody else (never the building: a household's arrears are its own) — then records
the reminder as an audit row (`arrears_reminded`, target `unit:<id>`, detail: bill ids,
amount, how many accounts were told) so that it is not repeated within `repeat_days`.

Reminders only: nothing here cuts, limits or delays any service.

Order: told first, recorded after. A pass that dies between the two tells that household again
on the next pass (at worst a duplicate reminder, never a silent miss); a Notify that fails is
logged and not recorded, so the next pass tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hub.domain.accounts import SYSTEM
from hub.domain.audit import AuditAction, entry_by
from hub.domain.billing.arrears import ArrearsPolicy, Reminder, UnpaidBill, choose_reminders
from hub.domain.errors import DomainError
from hub.domain.outcomes import Cause, Notify
from hub.ports import UnitOfWork
from hub.store.billing_runs_sql import session_of
from hub.store.billing_tables import bills
from hub.store.tables import audit_log, units

log = logging.getLogger(__name__)
RULE_ID = "billing.arrears"


async def run_arrears_reminders(bus: Any, uow_factory: Callable[[], UnitOfWork], now: datetime,
                                policy: ArrearsPolicy | None = None) -> list[Reminder]:
    """One pass; returns the reminders sent (and recorded)."""
    policy = policy or ArrearsPolicy()
    async with uow_factory() as uow:
        unpaid, last = await _facts(uow, now, policy)
    sent = []
    for reminder in choose_reminders(unpaid, last, policy, now):
        try:
            told = await bus.handle(Notify(
                site_id=reminder.site_id, unit_id=reminder.unit_id, title=reminder.title(),
                body=reminder.body(), at=now, cause=Cause(rule_id=RULE_ID)))
        except DomainError as err:
            log.warning("arrears reminder for unit %s not sent: %s", reminder.unit_id, err)
            continue
        async with uow_factory() as uow:
            uow.audit(entry_by(SYSTEM, now, AuditAction.ARREARS_REMINDED,
                               f"unit:{reminder.unit_id}", {
                                   "bill_ids": ",".join(map(str, reminder.bill_ids)),
                                   "amount": str(reminder.amount), "told": str(told)}))
            await uow.commit()
        sent.append(reminder)
    return sent


async def _facts(uow: UnitOfWork, now: datetime, policy: ArrearsPolicy
                 ) -> tuple[list[UnpaidBill], dict[int, datetime]]:
    """Bills unpaid and overdue on `now`'s date (any site), and when each unit was last
    reminded within `repeat_days`: two reads, whatever the history."""
    session = session_of(uow)
    outstanding = bills.c.total - bills.c.paid - bills.c.written_off
    rows = await session.execute(
        select(bills.c.id, bills.c.site_id, bills.c.unit_id, units.c.number, bills.c.period,
               bills.c.due_date, outstanding.label("outstanding"))
        .join(units, units.c.id == bills.c.unit_id)
        .where(outstanding > 0, bills.c.due_date < now.date()))
    unpaid = [UnpaidBill(bill_id=r.id, site_id=r.site_id, unit_id=r.unit_id,
                         unit_number=r.number, period=r.period, due_date=r.due_date,
                         outstanding=r.outstanding) for r in rows]
    last: dict[int, datetime] = {}
    for target, at in await session.execute(
            select(audit_log.c.target, func.max(audit_log.c.at))
            .where(audit_log.c.action == AuditAction.ARREARS_REMINDED,
                   audit_log.c.at > now - timedelta(days=policy.repeat_days))
            .group_by(audit_log.c.target)):
        last[int(target.removeprefix("unit:"))] = at
    return unpaid, last
