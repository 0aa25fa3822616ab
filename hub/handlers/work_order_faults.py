"""Faults become work orders: RaiseFault opens one, adds an occurrence to the open one, or
reopens one resolved within the relapse window; ClearFault and AnnotateOrder note on it.

One open order per (device or asset, fault) is kept by the unique `open_key` column, not a
lock: a concurrent twin's insert fails on commit and the command runs again in a fresh
transaction, where it finds the order its twin opened and adds an occurrence instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from hub.domain.errors import Conflict, NotFound
from hub.domain.outcomes import (
    AnnotateOrder,
    ClearFault,
    OrderOpened,
    OrderReopened,
    RaiseFault,
)
from hub.domain.registry import Asset, Device
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    DONE,
    SYSTEM_BY,
    By,
    DispatchMode,
    InvalidTransition,
    OrderPolicy,
    RosterEntry,
    Rotation,
    WorkOrder,
    candidates,
    fault_key,
    next_in_turn,
)
from hub.ports import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 5


async def retrying(uow: UnitOfWork, attempt: Callable[[], Awaitable[T]],
                   what: str) -> T:
    """Run `attempt` (which commits) again in a fresh transaction when a concurrent writer
    won: a unique index (Conflict from the unit of work) or a version check (StaleDataError)."""
    for n in range(1, ATTEMPTS + 1):
        try:
            return await attempt()
        except (Conflict, StaleDataError) as err:
            if isinstance(err, InvalidTransition):
                raise  # the order's own rule, not a race: trying again changes nothing
            await uow.rollback()
            uow.collect_events()  # what the lost attempt emitted never happened
            if n == ATTEMPTS:
                raise Conflict(f"{what}: still conflicting after {ATTEMPTS} attempts") from err
            log.info("%s: concurrent change, attempt %d again (%s)", what, n,
                     type(err).__name__)
    raise AssertionError("unreachable")


async def raise_fault(cmd: RaiseFault, uow: UnitOfWork,
                      order_policy: OrderPolicy = DEFAULT_POLICY) -> int:
    key = fault_key(cmd.device_id, cmd.asset_id, cmd.fault)
    by = By.cause_of(cmd.cause, cmd.actor.account_id)
    evidence = {"fault": cmd.fault, **(by.cause or {})}

    async def attempt() -> int:
        found = await uow.find_one(WorkOrder, open_key=key)
        if found is not None and found.site_id != cmd.site_id:
            raise NotFound("device" if cmd.device_id is not None else "asset",
                           cmd.device_id if cmd.device_id is not None else cmd.asset_id)
        if found is not None:
            found.add_occurrence(cmd.at, by, evidence)
            await uow.commit()
            assert found.id is not None
            return found.id
        relapsed = await _relapsed(uow, key, cmd.at, order_policy)
        if relapsed is not None:
            return await _reopen_relapse(uow, relapsed, cmd, by, evidence, order_policy)
        return await _open_fault_order(uow, cmd, key, by, evidence, order_policy)

    return await retrying(uow, attempt, f"fault {key}")


async def _relapsed(uow: UnitOfWork, key: str, at: datetime,
                    policy: OrderPolicy) -> WorkOrder | None:
    done = [o for o in await uow.find(WorkOrder, fault_key=key)
            if o.status in DONE and o.resolved_at is not None]
    latest = max(done, key=lambda o: o.resolved_at or at, default=None)
    if latest is None or latest.resolved_at is None:
        return None
    return latest if at - latest.resolved_at <= policy.relapse_window else None


async def _reopen_relapse(uow: UnitOfWork, order: WorkOrder, cmd: RaiseFault, by: By,
                          evidence: dict[str, Any], policy: OrderPolicy) -> int:
    assert order.resolved_at is not None and order.id is not None
    after = cmd.at - order.resolved_at
    order.reopen(cmd.at, by, f"the fault came back {_minutes(after)} after it was resolved",
                 terms=policy.terms(order.category, order.priority))
    order.add_occurrence(cmd.at, by, evidence)
    uow.emit(OrderReopened(order_id=order.id, site_id=order.site_id, fault=cmd.fault,
                           at=cmd.at, device_id=order.device_id, asset_id=order.asset_id))
    await uow.commit()
    return order.id


async def _open_fault_order(uow: UnitOfWork, cmd: RaiseFault, key: str, by: By,
                            evidence: dict[str, Any], policy: OrderPolicy) -> int:
    building_id = cmd.building_id
    if cmd.device_id is not None:
        device = await uow.get(Device, cmd.device_id)
        if device is None or device.site_id != cmd.site_id:
            raise NotFound("device", cmd.device_id)
        building_id = building_id if building_id is not None else device.building_id
    if cmd.asset_id is not None:
        asset = await uow.get(Asset, cmd.asset_id)
        if asset is None or asset.site_id != cmd.site_id:
            raise NotFound("asset", cmd.asset_id)
        building_id = building_id if building_id is not None else asset.building_id
    order = WorkOrder(
        site_id=cmd.site_id, title=cmd.title, category=cmd.category, priority=cmd.priority,
        source=cmd.source, opened_at=cmd.at, fault=cmd.fault, device_id=cmd.device_id,
        asset_id=cmd.asset_id, building_id=building_id, checklist=list(cmd.checklist),
        due_at=cmd.due_at)
    order.opened(by, policy.terms(cmd.category, cmd.priority), occurrence=evidence)
    assert order.open_key == key
    return await add_and_dispatch(uow, order, policy, by)


async def add_and_dispatch(uow: UnitOfWork, order: WorkOrder, policy: OrderPolicy,
                           by: By) -> int:
    """Store a new order, dispatch it by its category's mode, publish OrderOpened, commit."""
    await dispatch(uow, order, policy, by)
    uow.add(order)
    await uow.flush()
    assert order.id is not None
    uow.emit(OrderOpened(order_id=order.id, site_id=order.site_id, fault=order.fault or "",
                         source=order.source, priority=order.priority, at=order.opened_at,
                         device_id=order.device_id, asset_id=order.asset_id,
                         building_id=order.building_id))
    await uow.commit()
    return order.id


async def dispatch(uow: UnitOfWork, order: WorkOrder, policy: OrderPolicy, by: By) -> None:
    """Round-robin: the next on-duty technician with the category's skill, after the one
    whose turn it was last (persisted). Assign and pool modes leave the order in the pool."""
    mode = policy.of(order.category).dispatch
    if mode != DispatchMode.ROUND_ROBIN:
        return
    at = order.opened_at
    roster = await uow.find(RosterEntry, site_id=order.site_id)
    rotation = await uow.get(Rotation, (order.site_id, order.category))
    chosen = next_in_turn(candidates(roster, order.category),
                          rotation.last_account_id if rotation else None)
    if chosen is None:
        order.note(at, SYSTEM_BY, f"no technician for {order.category} is on duty: the "
                                  "order waits in the pool", kind="dispatch")
        return
    if rotation is None:
        uow.add(Rotation(order.site_id, order.category, chosen))
    else:
        rotation.last_account_id = chosen
    order.assign(chosen, at, by, how="round-robin assigned")


async def clear_fault(cmd: ClearFault, uow: UnitOfWork) -> int | None:
    """Noted on the open order, which stays open for staff; None when there is none."""
    order = await uow.find_one(WorkOrder, open_key=fault_key(cmd.device_id, cmd.asset_id,
                                                              cmd.fault))
    if order is None:
        return None
    order.recovered(cmd.at, By.cause_of(cmd.cause, cmd.actor.account_id))
    await uow.commit()
    return order.id


async def annotate_order(cmd: AnnotateOrder, uow: UnitOfWork) -> int | None:
    order = await uow.find_one(WorkOrder, open_key=fault_key(cmd.device_id, cmd.asset_id,
                                                              cmd.fault))
    if order is None:
        return None
    order.note(cmd.at, By.cause_of(cmd.cause, cmd.actor.account_id), cmd.text)
    await uow.commit()
    return order.id


def _minutes(span: Any) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
