"""The device registry, device status and commands, and the dead letters of ingestion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.devices import (
    CommandIn,
    CommandOut,
    DeadLetterCounts,
    DeadLetterOut,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    DeviceStatusOut,
)
from hub.domain.registry import Approval
from hub.handlers import devices as h
from hub.store.device_tables import devices
from hub.views import devices as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1", tags=["devices"])

KindQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
# "site/kind/device", as dead letters name devices
KeyQuery = Annotated[str | None, Query(max_length=200, examples=["lakeside/gate/gate-north"])]
ReasonQuery = Annotated[str | None, Query(max_length=64, examples=["bad_json"])]


@router.get("/devices")
async def list_devices(
    actor: ActorDep, db: SessionDep, paging: PagingDep, site_id: Id | None = None,
    kind: KindQuery = None, building_id: Id | None = None, approval: Approval | None = None,
    online: bool | None = None,
) -> Page[DeviceOut]:
    query = views.device_query(actor, site_id=site_id, kind=kind, building_id=building_id,
                               approval=approval, online=online)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[DeviceOut].model_validate(page_of(items, total, paging))


@router.post("/devices", status_code=201)
async def register_device(body: DeviceIn, actor: ActorDep, bus: BusDep) -> Created:
    values = body.model_dump(exclude={"connection", "tags"})
    connection = body.connection.model_dump() if body.connection else {}
    return Created(id=await bus.handle(h.RegisterDevice(
        actor, **values, connection=connection, tags=tuple(body.tags))))


@router.get("/devices/{device_id}")
async def get_device(device_id: Id, actor: ActorDep, db: SessionDep) -> DeviceOut:
    query = views.device_query(actor).where(devices.c.id == device_id)
    return DeviceOut.model_validate(await one(db, query, "device", device_id))


@router.patch("/devices/{device_id}", status_code=204)
async def change_device(device_id: Id, body: DevicePatch, actor: ActorDep,
                        bus: BusDep) -> None:
    changes = set_fields(body, frozenset({"building_id", "floor", "asset_id", "connection",
                                          "register_map"}))
    if "connection" in changes:
        changes["connection"] = changes["connection"] or {}
    await bus.handle(h.ChangeDevice(actor, device_id, changes))


@router.post("/devices/{device_id}/approve", status_code=204)
async def approve_device(device_id: Id, actor: ActorDep, bus: BusDep) -> None:
    """Trust a pending (or disabled) device: its messages count from the next one on."""
    await bus.handle(h.ApproveDevice(actor, device_id))


@router.get("/devices/{device_id}/status")
async def device_status(device_id: Id, actor: ActorDep, db: SessionDep) -> DeviceStatusOut:
    return DeviceStatusOut.model_validate(await views.status(db, actor, device_id))


@router.post("/devices/{device_id}/commands", status_code=202)
async def send_command(device_id: Id, body: CommandIn, actor: ActorDep, bus: BusDep,
                       db: SessionDep) -> CommandOut:
    """Send a command (open the barrier, switch a light); answers with the stored command
    and what became of it: acked, failed, no_ack (no answer in time) or expired."""
    sent: h.CommandSent = await bus.handle(h.SendDeviceCommand(
        actor, device_id, action=body.action, args=body.args, expires_in_s=body.expires_in))
    return CommandOut.model_validate(await views.command(db, sent.command.id))


@router.get("/devices/{device_id}/commands")
async def list_commands(device_id: Id, actor: ActorDep, db: SessionDep,
                        paging: PagingDep) -> Page[CommandOut]:
    await views.visible(db, actor, device_id)
    items, total = await page(db, views.command_query(device_id), paging.limit, paging.offset)
    return Page[CommandOut].model_validate(page_of(items, total, paging))


@router.get("/dead-letters")
async def list_dead_letters(actor: ActorDep, db: SessionDep, paging: PagingDep,
                            device_key: KeyQuery = None,
                            reason: ReasonQuery = None) -> Page[DeadLetterOut]:
    """Messages ingestion refused, newest first; only the newest are kept (see counts)."""
    codes = await views.visible_site_codes(db, actor)
    query = views.dead_letter_query(codes, device_key=device_key, reason=reason)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[DeadLetterOut].model_validate(page_of(items, total, paging))


@router.get("/dead-letters/counts")
async def count_dead_letters(actor: ActorDep, db: SessionDep, paging: PagingDep,
                             reason: ReasonQuery = None) -> DeadLetterCounts:
    """Every refusal ever counted, by device and reason (these survive the bound)."""
    codes = await views.visible_site_codes(db, actor)
    rows, total = await page(db, views.letter_count_query(codes, reason=reason), paging.limit,
                             paging.offset)
    dropped = await views.dropped(db) if codes is None else None
    return DeadLetterCounts.model_validate({
        **page_of([views.letter_count(r) for r in rows], total, paging), "dropped": dropped})
