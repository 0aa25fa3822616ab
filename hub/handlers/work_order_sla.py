"""The SLA job: `run_sla_check(uow_factory, now)` finds what the clocks say now, records each
warning and escalation once on its order, then notifies the site's managers of escalations.

Flags are committed before anyone is notified, so two runs (or two workers) never escalate
the same clock twice; a run that loses a race with a staff change simply says it next time.
Without a notification handler (`notify` None) an escalation is recorded on the timeline only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from hub.domain.accounts import Role
from hub.domain.errors import Conflict
from hub.domain.outcomes import Cause, Evidence, Notify
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    OPEN,
    AlertKind,
    OrderPolicy,
    SlaAlert,
    WorkOrder,
    sla_check,
)
from hub.domain.work_orders.sla import record
from hub.ports import UnitOfWork

log = logging.getLogger(__name__)
Notifier = Callable[[Notify], Awaitable[Any]]
SLA_INTERVAL_S = 30.0  # a 5-minute clock warns at 2.5: checked well inside that


async def run_sla_check(uow_factory: Callable[[], UnitOfWork], now: datetime, *,
                        policy: OrderPolicy = DEFAULT_POLICY,
                        notify: Notifier | None = None) -> list[SlaAlert]:
    """One pass over the open orders; returns the alerts it recorded."""
    async with uow_factory() as uow:
        orders = [o for status in sorted(OPEN) for o in await uow.find(WorkOrder, status=status)]
        alerts = sla_check(orders, now, policy.warning_lead)
        by_id = {o.id: o for o in orders}
        for alert in alerts:
            record(by_id[alert.order_id], alert, now, notified=notify is not None)
        try:
            await uow.commit()
        except (Conflict, StaleDataError):
            await uow.rollback()
            log.info("SLA check at %s lost a race with a change to an order; next run", now)
            return []
    if notify is not None:
        for alert in alerts:
            if alert.kind == AlertKind.ESCALATION:
                await _notify(notify, alert, now)
    return alerts


async def _notify(notify: Notifier, alert: SlaAlert, now: datetime) -> None:
    command = Notify(
        site_id=alert.site_id, title=f"SLA escalation: work order {alert.order_id}",
        body=alert.describe(), at=now, role=Role.MANAGER,
        cause=Cause(evidence=(Evidence(kind="sla", at=now, summary={
            "order_id": alert.order_id, "clock": alert.clock.value,
            "due_at": alert.due_at.isoformat()}),)))
    try:
        await notify(command)
    except Exception:  # a failing notifier must not stop the other escalations
        log.exception("notifying the escalation of work order %s failed", alert.order_id)


async def sla_forever(uow_factory: Callable[[], UnitOfWork], clock: Callable[[], datetime], *,
                      policy: OrderPolicy = DEFAULT_POLICY, notify: Notifier | None = None,
                      interval_s: float = SLA_INTERVAL_S) -> None:
    """The supervised job: a check every `interval_s`. Several workers may run it; the order's
    version check lets one of them record each alert."""
    while True:
        await run_sla_check(uow_factory, clock(), policy=policy, notify=notify)
        await asyncio.sleep(interval_s)
