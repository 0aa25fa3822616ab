"""The parking registry for staff: lots, lanes, spaces, vehicles, monthly passes, the white
and black lists, and a plate's standing as the gate would see it now."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from sqlalchemy import Select

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.parking_registry import (
    LaneIn,
    LaneOut,
    LanePatch,
    ListEntryIn,
    ListEntryOut,
    ListEntryPatch,
    LotIn,
    LotOut,
    LotPatch,
    PassIn,
    PassOut,
    PassPatch,
    Plate,
    SpaceIn,
    SpaceOut,
    SpacePatch,
    StandingOut,
    VehicleIn,
    VehicleOut,
    VehiclePatch,
)
from hub.domain.parking.registry import PlateList, SpaceKind
from hub.handlers import parking_plates as plates
from hub.handlers import parking_registry as h
from hub.views import parking_registry as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1/parking", tags=["parking"])


async def _page(db: SessionDep, query: Select[Any], paging: PagingDep) -> dict[str, Any]:
    items, total = await page(db, query, paging.limit, paging.offset)
    return page_of(items, total, paging)


# Lots ------------------------------------------------------------------------------------

@router.get("/lots")
async def list_lots(actor: ActorDep, db: SessionDep, paging: PagingDep,
                    site_id: Id | None = None, parent_id: Id | None = None) -> Page[LotOut]:
    query = views.lot_query(actor, site_id=site_id, parent_id=parent_id)
    return Page[LotOut].model_validate(await _page(db, query, paging))


@router.post("/lots", status_code=201)
async def create_lot(body: LotIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.CreateLot(actor, **body.model_dump())))


@router.get("/lots/{lot_id}")
async def get_lot(lot_id: Id, actor: ActorDep, db: SessionDep) -> LotOut:
    return LotOut.model_validate(await one(db, views.lot_query(actor, lot_id=lot_id), "lot",
                                           lot_id))


@router.patch("/lots/{lot_id}", status_code=204)
async def change_lot(lot_id: Id, body: LotPatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.ChangeParking(actor, "lot", lot_id, set_fields(
        body, frozenset({"parent_id", "tariff_id"}))))


@router.delete("/lots/{lot_id}", status_code=204)
async def delete_lot(lot_id: Id, actor: ActorDep, bus: BusDep) -> None:
    """Only a lot with no lanes, spaces, inner lots or passes naming it."""
    await bus.handle(h.DeleteParking(actor, "lot", lot_id))


# Lanes -----------------------------------------------------------------------------------

@router.get("/lanes")
async def list_lanes(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     site_id: Id | None = None, lot_id: Id | None = None,
                     camera_device_id: Id | None = None) -> Page[LaneOut]:
    query = views.lane_query(actor, site_id=site_id, lot_id=lot_id,
                             camera_device_id=camera_device_id)
    return Page[LaneOut].model_validate(await _page(db, query, paging))


@router.post("/lanes", status_code=201)
async def create_lane(body: LaneIn, actor: ActorDep, bus: BusDep) -> Created:
    """`code` is the `lane` the camera's plate events name; the camera must be a camera and
    the barrier a gate of the lot's site."""
    values = body.model_dump()
    values["vehicle_classes"] = tuple(values["vehicle_classes"])
    values["plate_colors"] = tuple(values["plate_colors"])
    return Created(id=await bus.handle(h.CreateLane(actor, **values)))


@router.get("/lanes/{lane_id}")
async def get_lane(lane_id: Id, actor: ActorDep, db: SessionDep) -> LaneOut:
    return LaneOut.model_validate(await one(db, views.lane_query(actor, lane_id=lane_id),
                                            "lane", lane_id))


@router.patch("/lanes/{lane_id}", status_code=204)
async def change_lane(lane_id: Id, body: LanePatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.ChangeParking(actor, "lane", lane_id, set_fields(
        body, frozenset({"display_device_id"}))))


@router.delete("/lanes/{lane_id}", status_code=204)
async def delete_lane(lane_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.DeleteParking(actor, "lane", lane_id))


# Spaces ----------------------------------------------------------------------------------

@router.get("/spaces")
async def list_spaces(actor: ActorDep, db: SessionDep, paging: PagingDep,
                      site_id: Id | None = None, lot_id: Id | None = None,
                      unit_id: Id | None = None, kind: SpaceKind | None = None,
                      code: Annotated[str | None, Query(max_length=63)] = None
                      ) -> Page[SpaceOut]:
    query = views.space_query(actor, site_id=site_id, lot_id=lot_id, unit_id=unit_id,
                              kind=kind, code=code)
    return Page[SpaceOut].model_validate(await _page(db, query, paging))


@router.post("/spaces", status_code=201)
async def create_space(body: SpaceIn, actor: ActorDep, bus: BusDep) -> Created:
    """Owned and rented spaces belong to a unit; a rented one has its dates."""
    return Created(id=await bus.handle(h.CreateSpace(actor, **body.model_dump())))


@router.get("/spaces/{space_id}")
async def get_space(space_id: Id, actor: ActorDep, db: SessionDep) -> SpaceOut:
    return SpaceOut.model_validate(await one(db, views.space_query(actor, space_id=space_id),
                                             "space", space_id))


@router.patch("/spaces/{space_id}", status_code=204)
async def change_space(space_id: Id, body: SpacePatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.ChangeParking(actor, "space", space_id, set_fields(
        body, frozenset({"unit_id", "valid_from", "valid_to"}))))


@router.delete("/spaces/{space_id}", status_code=204)
async def delete_space(space_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.DeleteParking(actor, "space", space_id))


# Vehicles --------------------------------------------------------------------------------

@router.get("/vehicles")
async def list_vehicles(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        site_id: Id | None = None, unit_id: Id | None = None,
                        resident_id: Id | None = None, space_id: Id | None = None,
                        plate: Annotated[str | None, Query(max_length=16)] = None
                        ) -> Page[VehicleOut]:
    query = views.vehicle_query(actor, site_id=site_id, unit_id=unit_id,
                                resident_id=resident_id, space_id=space_id, plate=plate)
    return Page[VehicleOut].model_validate(await _page(db, query, paging))


@router.post("/vehicles", status_code=201)
async def register_vehicle(body: VehicleIn, actor: ActorDep, bus: BusDep) -> Created:
    """A plate is unique in its site; a green new-energy plate is recognised by its length."""
    return Created(id=await bus.handle(plates.RegisterVehicle(actor, **body.model_dump())))


@router.get("/vehicles/{vehicle_id}")
async def get_vehicle(vehicle_id: Id, actor: ActorDep, db: SessionDep) -> VehicleOut:
    query = views.vehicle_query(actor, vehicle_id=vehicle_id)
    return VehicleOut.model_validate(await one(db, query, "vehicle", vehicle_id))


@router.patch("/vehicles/{vehicle_id}", status_code=204)
async def change_vehicle(vehicle_id: Id, body: VehiclePatch, actor: ActorDep,
                         bus: BusDep) -> None:
    await bus.handle(h.ChangeParking(actor, "vehicle", vehicle_id, set_fields(
        body, frozenset({"resident_id", "space_id"}))))


@router.delete("/vehicles/{vehicle_id}", status_code=204)
async def delete_vehicle(vehicle_id: Id, actor: ActorDep, bus: BusDep) -> None:
    """Its passes stay, by plate."""
    await bus.handle(h.DeleteParking(actor, "vehicle", vehicle_id))


# Monthly passes --------------------------------------------------------------------------

@router.get("/passes")
async def list_passes(actor: ActorDep, db: SessionDep, paging: PagingDep,
                      site_id: Id | None = None, vehicle_id: Id | None = None,
                      plate: Annotated[str | None, Query(max_length=16)] = None,
                      valid_on: date | None = None) -> Page[PassOut]:
    query = views.pass_query(actor, site_id=site_id, plate=plate, vehicle_id=vehicle_id,
                             valid_on=valid_on)
    return Page[PassOut].model_validate(await _page(db, query, paging))


@router.post("/passes", status_code=201)
async def issue_pass(body: PassIn, actor: ActorDep, bus: BusDep) -> Created:
    """For a plate or a registered vehicle; no lot_ids: every lot of the site. Valid from
    `valid_from` to `valid_to` (both days included, in the site's calendar), then
    `grace_days` more."""
    values = body.model_dump()
    values["lot_ids"] = tuple(values["lot_ids"])
    return Created(id=await bus.handle(plates.IssuePass(actor, **values)))


@router.get("/passes/{monthly_pass_id}")
async def get_pass(monthly_pass_id: Id, actor: ActorDep, db: SessionDep) -> PassOut:
    query = views.pass_query(actor, pass_id=monthly_pass_id)
    return PassOut.model_validate(await one(db, query, "pass", monthly_pass_id))


@router.patch("/passes/{monthly_pass_id}", status_code=204)
async def change_pass(monthly_pass_id: Id, body: PassPatch, actor: ActorDep,
                      bus: BusDep) -> None:
    """Renewing is a new pass (its own dates and payment); this corrects one."""
    await bus.handle(h.ChangeParking(actor, "pass", monthly_pass_id, set_fields(body)))


@router.delete("/passes/{monthly_pass_id}", status_code=204)
async def delete_pass(monthly_pass_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.DeleteParking(actor, "pass", monthly_pass_id))


# White and black lists -------------------------------------------------------------------

@router.get("/lists")
async def list_entries(actor: ActorDep, db: SessionDep, paging: PagingDep,
                       site_id: Id | None = None, list: PlateList | None = None,
                       plate: Annotated[str | None, Query(max_length=16)] = None,
                       valid_at: AwareDatetime | None = None) -> Page[ListEntryOut]:
    query = views.list_query(actor, site_id=site_id, kind=list, plate=plate,
                             valid_at=valid_at)
    return Page[ListEntryOut].model_validate(await _page(db, query, paging))


@router.post("/lists", status_code=201)
async def add_list_entry(body: ListEntryIn, actor: ActorDep, bus: BusDep) -> Created:
    """From `valid_from` (default now) until `valid_to` (not included; none: until removed).
    A black-listed car is refused whatever else it is."""
    return Created(id=await bus.handle(plates.AddListEntry(actor, **body.model_dump())))


@router.get("/lists/{list_entry_id}")
async def get_list_entry(list_entry_id: Id, actor: ActorDep, db: SessionDep) -> ListEntryOut:
    query = views.list_query(actor, entry_id=list_entry_id)
    return ListEntryOut.model_validate(await one(db, query, "list entry", list_entry_id))


@router.patch("/lists/{list_entry_id}", status_code=204)
async def change_list_entry(list_entry_id: Id, body: ListEntryPatch, actor: ActorDep,
                            bus: BusDep) -> None:
    await bus.handle(h.ChangeParking(actor, "list_entry", list_entry_id, set_fields(
        body, frozenset({"valid_to"}))))


@router.delete("/lists/{list_entry_id}", status_code=204)
async def delete_list_entry(list_entry_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.DeleteParking(actor, "list_entry", list_entry_id))


# Standing --------------------------------------------------------------------------------

@router.get("/standing")
async def plate_standing(site_id: Id, plate: Annotated[Plate, Query()], actor: ActorDep,
                         bus: BusDep) -> StandingOut:
    """What the gate would think of the plate now (registered, monthly, in grace, listed,
    visitor or temporary) and why. Writes nothing."""
    found = await bus.handle(plates.CheckStanding(actor, site_id, plate))
    return StandingOut(plate=found.plate, standing=found.standing, reasons=list(found.reasons),
                       vehicle_id=found.vehicle_id, vehicle_class=found.vehicle_class,
                       plate_color=found.plate_color, pass_id=found.pass_id,
                       list_entry_id=found.list_entry_id,
                       visitor_pass_id=found.visitor_pass_id,
                       visitor_until=found.visitor_until, lot_ids=list(found.lot_ids))
