"""Work orders of the API tests' world: a repair for household A and one for household B (both
lakeside, building 1), and a lift fault in riverside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.domain.outcomes import Cause, Evidence, OrderSource, Priority, RaiseFault
from hub.handlers.work_orders import OpenOrder

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


async def seed_work_orders(hub: Hub, w: Any) -> None:
    async def repair(unit_id: int, title: str) -> int:
        return int(await hub.bus.handle(OpenOrder(
            SYSTEM, site_id=w.lakeside, title=title, category="plumbing",
            priority=Priority.P3, unit_id=unit_id, source=OrderSource.RESIDENT)))

    w.order_alice = await repair(w.unit_a, "Kitchen tap drips")
    w.order_bob = await repair(w.unit_b, "Bathroom drain blocked")
    w.order_river = int(await hub.bus.handle(RaiseFault(
        site_id=w.riverside, fault="DOOR_CLOSE_FAILURE", category="elevator",
        priority=Priority.P2, title="Lift door does not close", at=AT,
        device_id=w.lift_river, actor=SYSTEM,
        cause=Cause(rule_id="elevator-door", rule_version="1", evidence=(
            Evidence(kind="fault", at=AT, device_id=w.lift_river,
                     summary={"code": "DOOR_CLOSE_FAILURE"}),)))))
