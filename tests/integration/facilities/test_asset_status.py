"""An asset's status follows its orders and its lift: down on a P1 fault or offline, under
maintenance while a planned order is worked (the lift in maintenance mode), operational
after; its history records each order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.accounts import SYSTEM
from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline
from hub.domain.facilities import AssetEvent, AssetStatus, spans
from hub.domain.outcomes import (
    OrderCancelled,
    OrderOpened,
    OrderResolved,
    OrderSource,
    Priority,
)
from hub.domain.registry import Asset
from hub.handlers.maintenance import CreatePlan
from hub.handlers.maintenance_schedule import run_due_maintenance
from hub.store.device_tables import device_state
from simulators.modbus.elevator import Mode
from tests.integration.facilities.conftest import T0, Publish, Rig

HOUR = timedelta(hours=1)


async def _status(rig: Rig) -> AssetStatus:
    async with rig.uow() as uow:
        asset = await uow.get(Asset, rig.asset_id)
        assert asset is not None
        return asset.status


async def _device_state(engine: AsyncEngine, rig: Rig, online: bool, mode: str) -> None:
    """What ingestion would have stored for the lift before telling its observers."""
    values: dict[str, Any] = {"mode": {"value": mode, "at": T0.isoformat()}}
    async with engine.begin() as conn:
        await conn.execute(delete(device_state).where(device_state.c.device_id == rig.device_id))
        await conn.execute(insert(device_state).values(
            device_id=rig.device_id, online=online, boot="", last_values=values, errors={}))


async def test_a_p1_fault_on_the_lift_takes_the_asset_down_until_resolved(rig: Rig) -> None:
    fault = OrderOpened(order_id=7, site_id=rig.site_id, fault="TRAPPED_BETWEEN_FLOORS",
                        source=OrderSource.DEVICE_FAULT, priority=Priority.P1, at=T0,
                        device_id=rig.device_id)  # the device's order: its asset is found
    await rig.handle(Publish(SYSTEM, fault))
    await rig.handle(Publish(SYSTEM, fault))  # delivered twice: recorded once
    assert await _status(rig) == AssetStatus.DOWN

    await rig.handle(Publish(SYSTEM, OrderResolved(
        order_id=7, site_id=rig.site_id, fault="TRAPPED_BETWEEN_FLOORS",
        source=OrderSource.DEVICE_FAULT, at=T0 + 2 * HOUR, device_id=rig.device_id)))
    assert await _status(rig) == AssetStatus.OPERATIONAL
    async with rig.uow() as uow:
        events = await uow.find(AssetEvent, asset_id=rig.asset_id)
    assert [(e.order_id, e.change, e.priority) for e in events] == [
        (7, "opened", Priority.P1), (7, "resolved", None)]


async def test_a_minor_fault_leaves_it_operational(rig: Rig) -> None:
    await rig.handle(Publish(SYSTEM, OrderOpened(
        order_id=8, site_id=rig.site_id, fault="LANDING_BUTTON_STUCK",
        source=OrderSource.DEVICE_FAULT, priority=Priority.P3, at=T0, device_id=rig.device_id)))
    assert await _status(rig) == AssetStatus.OPERATIONAL


async def test_planned_work_puts_it_under_maintenance_while_the_lift_is_in_maintenance_mode(
        rig: Rig, engine: AsyncEngine) -> None:
    await rig.handle(CreatePlan(actor=SYSTEM, asset_id=rig.asset_id, name="半月维保",
                                checklist=("门锁 door locks",), first_due=T0 + HOUR,
                                every_days=15, lead_hours=2))
    await run_due_maintenance(rig.bus, rig.uow, T0)
    assert len(rig.orders.raised) == 1
    assert await _status(rig) == AssetStatus.OPERATIONAL  # opened, not started

    rig.lift.car.set_mode(Mode.MAINTENANCE, 10.0)
    await _device_state(engine, rig, True, "maintenance")
    await rig.tracker.observe(rig.lift.read(T0 + HOUR))
    assert await _status(rig) == AssetStatus.UNDER_MAINTENANCE

    await _device_state(engine, rig, False, "maintenance")
    await rig.tracker.observe(DeviceWentOffline(rig.device_id, T0 + 2 * HOUR, "poll failed"))
    assert await _status(rig) == AssetStatus.DOWN

    rig.lift.car.set_mode(Mode.NORMAL, 20.0)
    await _device_state(engine, rig, True, "normal")
    await rig.tracker.observe(DeviceCameOnline(rig.device_id, T0 + 3 * HOUR))
    assert await _status(rig) == AssetStatus.OPERATIONAL
    async with rig.uow() as uow:
        asset = await uow.get(Asset, rig.asset_id)
        assert asset is not None and asset.status_since == T0 + 3 * HOUR


async def test_a_cancelled_fault_order_brings_it_back_and_is_no_failure(rig: Rig) -> None:
    await rig.handle(Publish(SYSTEM, OrderOpened(
        order_id=8, site_id=rig.site_id, fault="DOOR_OPEN_FAILURE",
        source=OrderSource.DEVICE_FAULT, priority=Priority.P2, at=T0, device_id=rig.device_id)))
    assert await _status(rig) == AssetStatus.DOWN
    await rig.handle(Publish(SYSTEM, OrderCancelled(
        order_id=8, site_id=rig.site_id, fault="DOOR_OPEN_FAILURE",
        source=OrderSource.DEVICE_FAULT, at=T0 + HOUR, device_id=rig.device_id)))
    assert await _status(rig) == AssetStatus.OPERATIONAL
    async with rig.uow() as uow:
        events = await uow.find(AssetEvent, asset_id=rig.asset_id)
    assert spans(events) == []  # a false alarm: neither a failure nor downtime
