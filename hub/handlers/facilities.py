"""The asset registry by staff, and the asset's side of work orders: its own record of the
orders opened, resolved and reopened on it (or on its devices), and its derived status.

Status is a projection: recomputed by hub.domain.facilities.derive_status whenever an order
of the asset changes or a linked device goes offline, comes back, or changes mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from hub.domain.accounts import SYSTEM, Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.facilities import (
    AssetEvent,
    AssetEventKind,
    AssetStatus,
    DeviceState,
    derive_status,
    open_orders,
)
from hub.domain.outcomes import (
    OrderCancelled,
    OrderOpened,
    OrderReopened,
    OrderResolved,
    OrderSource,
)
from hub.domain.property import Building
from hub.domain.registry import Asset, Device
from hub.handlers.scope import managed_site, visible_building
from hub.ports import UnitOfWork

EDITABLE = frozenset({"name", "category", "building_id", "floor", "area", "model", "supplier",
                      "purchased_on", "installed_on", "warranty_until"})


@dataclass(frozen=True)
class RegisterAsset(Command):
    site_id: int
    code: str
    name: str
    category: str
    building_id: int | None = None
    floor: int | None = None
    area: str = ""
    model: str = ""
    supplier: str = ""
    purchased_on: date | None = None
    installed_on: date | None = None
    warranty_until: date | None = None


@dataclass(frozen=True)
class ChangeAsset(Command):
    asset_id: int
    changes: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RefreshAssetStatus(Command):
    """A linked device changed (offline, online, mode): derive its asset's status again."""

    device_id: int
    at: datetime
    actor: Actor = SYSTEM


@dataclass(frozen=True)
class AssetStatusChanged:
    """For those who react to an asset going down or coming back (downtime notices)."""

    asset_id: int
    site_id: int
    building_id: int | None
    status: AssetStatus
    previous: AssetStatus
    at: datetime


async def register_asset(cmd: RegisterAsset, uow: UnitOfWork) -> int:
    if cmd.building_id is not None:
        await _building_of_site(uow, cmd.actor, cmd.site_id, cmd.building_id)
    else:
        await managed_site(uow, cmd.actor, cmd.site_id)
    if await uow.find_one(Asset, site_id=cmd.site_id, code=cmd.code):
        raise Conflict(f"asset code {cmd.code!r} exists in this site", field="code")
    values = {f.name: getattr(cmd, f.name) for f in fields(cmd) if f.name != "actor"}
    asset = Asset(**values)
    uow.add(asset)
    await uow.commit()
    assert asset.id is not None
    return asset.id


async def change_asset(cmd: ChangeAsset, uow: UnitOfWork) -> None:
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on an asset", field=name)
    asset = await visible_asset(uow, cmd.actor, cmd.asset_id)
    if "building_id" in cmd.changes:
        if cmd.changes["building_id"] is None:
            await managed_site(uow, cmd.actor, asset.site_id)
        else:
            await _building_of_site(uow, cmd.actor, asset.site_id, cmd.changes["building_id"])
    values = {f.name: getattr(asset, f.name) for f in fields(asset) if f.init}
    Asset(**{**values, **cmd.changes})  # the domain's own checks, on a copy
    for name, value in cmd.changes.items():
        setattr(asset, name, value)
    await uow.commit()


async def _building_of_site(uow: UnitOfWork, actor: Actor, site_id: int,
                            building_id: int) -> Building:
    building = await visible_building(uow, actor, building_id)
    if building.site_id != site_id:
        raise Invalid("the building must be in the asset's site", field="building_id")
    return building


async def visible_asset(uow: UnitOfWork, actor: Actor, asset_id: int) -> Asset:
    """Like devices: a building's assets with the building, site-wide ones with the site."""
    asset = await uow.get(Asset, asset_id)
    if asset is None or actor.is_resident:
        raise NotFound("asset", asset_id)
    seen = actor.manages_site(asset.site_id) if asset.building_id is None \
        else actor.sees_building(asset.site_id, asset.building_id)
    if not seen:
        raise NotFound("asset", asset_id)
    return asset


async def refresh_status(uow: UnitOfWork, asset: Asset, at: datetime) -> None:
    """Derive the status again from the recorded orders and the linked devices."""
    assert asset.id is not None
    orders = open_orders(await uow.find(AssetEvent, asset_id=asset.id))
    states = [await uow.get(DeviceState, d.id) for d in await uow.find(Device, asset_id=asset.id)]
    status = derive_status(orders, [s.condition() for s in states if s is not None])
    if status != asset.status:
        previous = asset.status
        asset.status, asset.status_since = status, at
        uow.emit(AssetStatusChanged(asset.id, asset.site_id, asset.building_id, status,
                                    previous, at))


async def refresh_asset_status(cmd: RefreshAssetStatus, uow: UnitOfWork) -> None:
    device = await uow.get(Device, cmd.device_id)
    asset = await uow.get(Asset, device.asset_id) if device and device.asset_id else None
    if asset is None:
        return
    await refresh_status(uow, asset, cmd.at)
    await uow.commit()


Followed = OrderOpened | OrderResolved | OrderReopened | OrderCancelled
KINDS: dict[type, AssetEventKind] = {OrderOpened: AssetEventKind.OPENED,
                                     OrderResolved: AssetEventKind.RESOLVED,
                                     OrderReopened: AssetEventKind.REOPENED,
                                     OrderCancelled: AssetEventKind.CANCELLED}


async def asset_of(uow: UnitOfWork, event: Followed) -> Asset | None:
    """The order's asset, or the asset of its device."""
    asset_id = event.asset_id
    if asset_id is None and event.device_id is not None:
        device = await uow.get(Device, event.device_id)
        asset_id = device.asset_id if device is not None else None
    return await uow.get(Asset, asset_id) if asset_id is not None else None


async def record_order_event(event: Followed, uow: UnitOfWork) -> None:
    """Event handler for the work-order events: the asset's history, then its status."""
    asset = await asset_of(uow, event)
    if asset is None or asset.id is None:
        return
    kind = KINDS[type(event)]
    if await uow.find_one(AssetEvent, asset_id=asset.id, order_id=event.order_id, change=kind,
                          at=event.at):
        return  # heard before
    source = getattr(event, "source", None) or await _source_of(uow, asset.id, event.order_id)
    uow.add(AssetEvent(asset_id=asset.id, order_id=event.order_id, change=kind, at=event.at,
                       fault=event.fault[:100], source=source,
                       priority=event.priority if isinstance(event, OrderOpened) else None))
    await uow.flush()
    await refresh_status(uow, asset, event.at)
    await uow.commit()


async def _source_of(uow: UnitOfWork, asset_id: int, order_id: int) -> OrderSource:
    opened = await uow.find_one(AssetEvent, asset_id=asset_id, order_id=order_id,
                                change=AssetEventKind.OPENED)
    return opened.source if opened is not None else OrderSource.STAFF


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    RegisterAsset: register_asset,
    ChangeAsset: change_asset,
    RefreshAssetStatus: refresh_asset_status,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {
    OrderOpened: [record_order_event],
    OrderResolved: [record_order_event],
    OrderReopened: [record_order_event],
    OrderCancelled: [record_order_event],
}
