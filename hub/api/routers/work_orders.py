"""Work orders: staff list, dispatch and work them (with the SLA board, an assignee's own
queue and the roster); residents file repairs with photos, follow and confirm them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.work_orders import (
    AssignIn,
    ConfirmIn,
    MaterialIn,
    NoteIn,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    ReasonIn,
    RepairDetailOut,
    RepairOut,
    ResolveIn,
    RosterIn,
    RosterOut,
    SlaBoardOut,
    TransferIn,
)
from hub.domain.accounts import Actor
from hub.domain.errors import Invalid, NotFound
from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders import Status
from hub.handlers import work_orders as h
from hub.media import MAX_PHOTO_BYTES, MAX_PHOTOS, photo_store_for
from hub.views import work_orders as views
from hub.views.property import page
from hub.work_order_config import shipped_policy

router = APIRouter(prefix="/api/v1", tags=["work orders"])
CategoryQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
REPAIR_FIELDS = frozenset({"unit_id", "title", "description", "category", "photos"})


@router.get("/work-orders")
async def list_orders(
    actor: ActorDep, db: SessionDep, paging: PagingDep, hub: HubDep,
    status: Status | None = None, category: CategoryQuery = None,
    priority: Priority | None = None, site_id: Id | None = None,
    building_id: Id | None = None, assignee_id: Id | None = None,
    device_id: Id | None = None, asset_id: Id | None = None,
    source: OrderSource | None = None, overdue: bool | None = None,
) -> Page[OrderOut]:
    query = views.order_query(actor, hub.clock(), status=status, category=category,
                              priority=priority, site_id=site_id, building_id=building_id,
                              assignee_id=assignee_id, device_id=device_id, asset_id=asset_id,
                              source=source, is_overdue=overdue)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[OrderOut].model_validate(page_of(items, total, paging))


@router.post("/work-orders", status_code=201)
async def open_order(body: OrderIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.OpenOrder(
        actor, **body.model_dump(exclude={"checklist"}), checklist=tuple(body.checklist))))


@router.get("/work-orders/sla-board")
async def sla_board(actor: ActorDep, db: SessionDep, hub: HubDep,
                    site_id: Id | None = None) -> SlaBoardOut:
    """Open orders by state and priority, the overdue count, and the orders at risk (past
    due, or due within the warning lead), soonest first."""
    lead = shipped_policy().warning_lead
    return SlaBoardOut.model_validate(
        await views.sla_board(db, actor, hub.clock(), lead, site_id=site_id))


@router.get("/work-orders/mine")
async def my_queue(actor: ActorDep, db: SessionDep, paging: PagingDep) -> Page[OrderOut]:
    """The caller's own open orders, most urgent first."""
    items, total = await page(db, views.mine_query(actor), paging.limit, paging.offset)
    return Page[OrderOut].model_validate(page_of(items, total, paging))


@router.get("/work-orders/roster")
async def roster(actor: ActorDep, db: SessionDep, paging: PagingDep,
                 site_id: Id | None = None) -> Page[RosterOut]:
    items, total = await page(db, views.roster_query(actor, site_id), paging.limit,
                              paging.offset)
    return Page[RosterOut].model_validate(page_of(items, total, paging))


@router.put("/work-orders/roster", status_code=204)
async def set_roster(body: RosterIn, actor: ActorDep, bus: BusDep) -> None:
    """One account's skills (categories) and whether it is on duty, in one site."""
    await bus.handle(h.SetRoster(actor, body.site_id, body.account_id, tuple(body.skills),
                                 body.on_duty))


@router.get("/work-orders/{order_id}")
async def get_order(order_id: Id, actor: ActorDep, db: SessionDep) -> OrderDetailOut:
    """The order with its timeline: every change, who or which rule made it, and the device
    events behind it (`data.cause.evidence`)."""
    return OrderDetailOut.model_validate(await views.order_detail(db, actor, order_id))


@router.get("/work-orders/{order_id}/photos/{photo_no}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
async def order_photo(order_id: Id, photo_no: Id, actor: ActorDep, db: SessionDep,
                      hub: HubDep) -> Response:
    """A photo the household sent with its repair request (1 is the first)."""
    order = await views.order_detail(db, actor, order_id)
    return await _photo(hub, order["photos"], photo_no)


async def _photo(hub: HubDep, refs: list[str], photo_no: int) -> Response:
    """Found through the order, in the caller's scope; then read by its reference."""
    if not 1 <= photo_no <= len(refs):
        raise NotFound("photo", photo_no)
    data, media_type = await photo_store_for(hub.settings.data_dir).read(refs[photo_no - 1])
    return Response(content=data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@router.post("/work-orders/{order_id}/assign", status_code=204)
async def assign(order_id: Id, body: AssignIn, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.AssignOrder(actor, order_id, body.assignee_id))


@router.post("/work-orders/{order_id}/transfer", status_code=204)
async def transfer(order_id: Id, body: TransferIn, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.AssignOrder(actor, order_id, body.assignee_id, transfer=True,
                                   reason=body.reason))


async def _act(bus: BusDep, actor: Actor, order_id: int, action: h.Action,
               body: ReasonIn | None = None) -> None:
    await bus.handle(h.ActOnOrder(actor, order_id, action, body.reason if body else ""))


@router.post("/work-orders/{order_id}/claim", status_code=204)
async def claim(order_id: Id, actor: ActorDep, bus: BusDep) -> None:
    """Take an order from the pool (new or returned): claiming is accepting."""
    await _act(bus, actor, order_id, h.Action.CLAIM)


@router.post("/work-orders/{order_id}/accept", status_code=204)
async def accept(order_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.ACCEPT)


@router.post("/work-orders/{order_id}/start", status_code=204)
async def start(order_id: Id, actor: ActorDep, bus: BusDep) -> None:
    """On site: the first start is the arrival the SLA measures."""
    await _act(bus, actor, order_id, h.Action.START)


@router.post("/work-orders/{order_id}/pause", status_code=204)
async def pause(order_id: Id, body: ReasonIn, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.PAUSE, body)


@router.post("/work-orders/{order_id}/resume", status_code=204)
async def resume(order_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.RESUME)


@router.post("/work-orders/{order_id}/resolve", status_code=204)
async def resolve(order_id: Id, body: ResolveIn, actor: ActorDep, bus: BusDep) -> None:
    """Each checklist item done or not; an item not given counts as not done."""
    done = {c.item: c.done for c in body.checklist}
    if len(done) != len(body.checklist):
        raise Invalid("checklist names an item twice", field="body.checklist")
    await bus.handle(h.ResolveOrder(actor, order_id, done, body.note))


@router.post("/work-orders/{order_id}/close", status_code=204)
async def close(order_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.CLOSE)


@router.post("/work-orders/{order_id}/cancel", status_code=204)
async def cancel(order_id: Id, body: ReasonIn, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.CANCEL, body)


@router.post("/work-orders/{order_id}/return", status_code=204)
async def hand_back(order_id: Id, body: ReasonIn, actor: ActorDep, bus: BusDep) -> None:
    """The assignee hands the order back to the pool."""
    await _act(bus, actor, order_id, h.Action.RETURN, body)


@router.post("/work-orders/{order_id}/reopen", status_code=204)
async def reopen(order_id: Id, body: ReasonIn, actor: ActorDep, bus: BusDep) -> None:
    await _act(bus, actor, order_id, h.Action.REOPEN, body)


@router.post("/work-orders/{order_id}/notes", status_code=204)
async def add_note(order_id: Id, body: NoteIn, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.NoteOrder(actor, order_id, body.text))


@router.post("/work-orders/{order_id}/materials", status_code=204)
async def add_material(order_id: Id, body: MaterialIn, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.AddMaterial(actor, order_id, body.name, body.quantity, body.unit_price,
                                   body.chargeable))


@router.post("/me/repairs", status_code=201)
async def submit_repair(
    request: Request, actor: ActorDep, bus: BusDep, hub: HubDep,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    description: Annotated[str, Form(max_length=2000)] = "",
    category: Annotated[str, Form(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")] = "general",
    unit_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    photos: Annotated[list[UploadFile], File(description="JPEG or PNG, at most 5 MB each, "
                                                         "at most 5")] = [],  # noqa: B006
) -> Created:
    """multipart/form-data. Without unit_id, the one unit the resident lives in."""
    unknown = sorted(set((await request.form()).keys()) - REPAIR_FIELDS)
    if unknown:
        raise Invalid(f"body.{unknown[0]}: unknown or protected field; not accepted",
                      field=f"body.{unknown[0]}")
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos, not {len(photos)}", field="body.photos")
    if unit_id is None and len(actor.unit_ids) != 1:
        raise Invalid("body.unit_id: say which of your units needs the repair",
                      field="body.unit_id")
    unit = unit_id if unit_id is not None else next(iter(actor.unit_ids))
    store = photo_store_for(hub.settings.data_dir)
    checked = []
    for i, upload in enumerate(photos):  # every photo checked before any is stored
        data = await upload.read(MAX_PHOTO_BYTES + 1)
        store.check(data, field=f"body.photos.{i}")
        checked.append(data)
    refs = tuple([(await store.save(data, field=f"body.photos.{i}")).ref
                  for i, data in enumerate(checked)])
    return Created(id=await bus.handle(h.SubmitRepair(
        actor, unit_id=unit, title=title.strip(), category=category,
        description=description.strip(), photos=refs)))


@router.get("/me/repairs")
async def my_repairs(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     status: Status | None = None) -> Page[RepairOut]:
    items, total = await page(db, views.repair_query(actor, status), paging.limit,
                              paging.offset)
    return Page[RepairOut].model_validate(page_of(items, total, paging))


@router.get("/me/repairs/{order_id}")
async def my_repair(order_id: Id, actor: ActorDep, db: SessionDep) -> RepairDetailOut:
    return RepairDetailOut.model_validate(await views.repair_detail(db, actor, order_id))


@router.get("/me/repairs/{order_id}/photos/{photo_no}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
async def my_repair_photo(order_id: Id, photo_no: Id, actor: ActorDep, db: SessionDep,
                          hub: HubDep) -> Response:
    repair = await views.repair_detail(db, actor, order_id)
    return await _photo(hub, repair["photos"], photo_no)


@router.post("/me/repairs/{order_id}/confirm", status_code=204)
async def confirm_repair(order_id: Id, body: ConfirmIn, actor: ActorDep, bus: BusDep) -> None:
    """The household confirms the repair is done and rates it 1-5; a resolved order closes."""
    await bus.handle(h.ConfirmRepair(actor, order_id, body.rating, body.comment))
