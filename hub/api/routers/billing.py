"""Fee items, discounts, meter readings, billing runs, bills and statements; residents' bills."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, ReadDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.billing import (
    BillDetailOut,
    BillOut,
    CommitOut,
    DiscountIn,
    DiscountOut,
    FeeItemIn,
    FeeItemOut,
    FeeItemPatch,
    Meter,
    Month,
    Period,
    PreviewOut,
    PriceIn,
    ReadingIn,
    ReadingOut,
    RunIn,
    StatementOut,
    TierIn,
    WriteOffIn,
    WriteOffOut,
)
from hub.api.schemas.common import Created, Id, Page
from hub.domain.errors import NotFound
from hub.handlers import billing as h
from hub.handlers.billing_runs import CommitRun, PreviewRun
from hub.handlers.payments import WriteOffBill
from hub.store.billing_tables import fee_items
from hub.views import billing as views
from hub.views import billing_reports as reports
from hub.views.property import household_page, household_params, page

router = APIRouter(prefix="/api/v1", tags=["billing"])
BillStatusQuery = Literal["open", "partial", "paid"]


def _tiers(tiers: list[TierIn]) -> tuple[tuple[Any, Any], ...]:
    return tuple((t.up_to, t.price) for t in tiers)


@router.get("/fee-items")
async def list_fee_items(actor: ActorDep, db: SessionDep, paging: PagingDep,
                         site_id: Id | None = None) -> Page[FeeItemOut]:
    items, total = await page(db, views.fee_item_query(actor, site_id), paging.limit,
                              paging.offset)
    prices = await views.prices_of(db, [i["id"] for i in items])
    for item in items:
        item["prices"] = prices[item["id"]]
    return Page[FeeItemOut].model_validate(page_of(items, total, paging))


@router.post("/fee-items", status_code=201)
async def create_fee_item(body: FeeItemIn, actor: ActorDep, bus: BusDep) -> Created:
    values = body.model_dump(exclude={"tiers", "building_ids", "unit_ids"})
    return Created(id=await bus.handle(h.CreateFeeItem(
        actor, **values, tiers=_tiers(body.tiers), building_ids=tuple(body.building_ids),
        unit_ids=tuple(body.unit_ids))))


@router.get("/fee-items/{fee_item_id}")
async def get_fee_item(fee_item_id: Id, actor: ActorDep, db: SessionDep) -> FeeItemOut:
    row = (await db.execute(views.fee_item_query(actor).where(
        fee_items.c.id == fee_item_id))).first()
    if row is None:
        raise NotFound("fee item", fee_item_id)
    item = dict(row._mapping)
    item["prices"] = (await views.prices_of(db, [fee_item_id]))[fee_item_id]
    return FeeItemOut.model_validate(item)


@router.patch("/fee-items/{fee_item_id}", status_code=204)
async def change_fee_item(fee_item_id: Id, body: FeeItemPatch, actor: ActorDep,
                          bus: BusDep) -> None:
    await bus.handle(h.ChangeFeeItem(actor, fee_item_id, set_fields(
        body, frozenset({"cap_amount", "cap_rate"}))))


@router.post("/fee-items/{fee_item_id}/prices", status_code=201)
async def add_price(fee_item_id: Id, body: PriceIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.AddPrice(
        actor, fee_item_id, body.effective_from, body.unit_price, _tiers(body.tiers))))


@router.get("/discounts")
async def list_discounts(actor: ActorDep, db: SessionDep, paging: PagingDep,
                         site_id: Id | None = None) -> Page[DiscountOut]:
    items, total = await page(db, views.discount_query(actor, site_id), paging.limit,
                              paging.offset)
    return Page[DiscountOut].model_validate(page_of(items, total, paging))


@router.post("/discounts", status_code=201)
async def create_discount(body: DiscountIn, actor: ActorDep, bus: BusDep) -> Created:
    values = body.model_dump(exclude={"building_ids", "unit_ids"})
    return Created(id=await bus.handle(h.CreateDiscount(
        actor, **values, building_ids=tuple(body.building_ids), unit_ids=tuple(body.unit_ids))))


@router.get("/meter-readings")
async def list_readings(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        site_id: Id | None = None, unit_id: Id | None = None,
                        meter: Meter | None = None,
                        period: Month | None = None) -> Page[ReadingOut]:
    query = views.reading_query(actor, site_id=site_id, unit_id=unit_id, meter=meter,
                                period=period)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[ReadingOut].model_validate(page_of(items, total, paging))


@router.post("/meter-readings", status_code=201)
async def record_reading(body: ReadingIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.RecordReading(actor, **body.model_dump())))


@router.post("/billing/preview")
async def preview_run(body: RunIn, actor: ActorDep, bus: BusDep) -> PreviewOut:
    """What a run would bill, per unit and line with its reasons; nothing is written."""
    return PreviewOut.model_validate(await bus.handle(PreviewRun(
        actor, body.site_id, body.period, tuple(body.fee_item_ids), body.as_of)))


@router.post("/billing/runs", status_code=201)
async def commit_run(body: RunIn, actor: ActorDep, bus: BusDep) -> CommitOut:
    """Bill the period. Lines already billed for a (unit, period, fee item) stay as they are:
    committing again creates nothing."""
    return CommitOut.model_validate(await bus.handle(CommitRun(
        actor, body.site_id, body.period, tuple(body.fee_item_ids), body.as_of)))


@router.get("/bills")
async def list_bills(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     site_id: Id | None = None, building_id: Id | None = None,
                     unit_id: Id | None = None, period: Period | None = None,
                     status: BillStatusQuery | None = None) -> Page[BillOut]:
    query = views.bill_query(actor, site_id=site_id, building_id=building_id, unit_id=unit_id,
                             period=period, status=status)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[BillOut].model_validate(page_of(items, total, paging))


@router.get("/bills/{bill_id}")
async def get_bill(bill_id: Id, actor: ActorDep, db: SessionDep) -> BillDetailOut:
    return BillDetailOut.model_validate(await views.bill_detail(db, actor, bill_id))


@router.post("/bills/{bill_id}/write-off", status_code=201)
async def write_off(bill_id: Id, body: WriteOffIn, actor: ActorDep, bus: BusDep) -> WriteOffOut:
    """Give up an unpaid amount (finance or admin), with a reason; audited."""
    return WriteOffOut.model_validate(await bus.handle(WriteOffBill(
        actor, bill_id, body.reason, body.amount)))


@router.get("/units/{unit_id}/statement")
async def unit_statement(unit_id: Id, actor: ActorDep, db: SessionDep,
                         first: Annotated[date | None, Query(alias="from")] = None,
                         last: Annotated[date | None, Query(alias="to")] = None
                         ) -> StatementOut:
    return StatementOut.model_validate(await views.statement(db, actor, unit_id, first, last))


@router.get("/me/bills")
async def my_bills(actor: ActorDep, db: ReadDep, paging: PagingDep,
                   status: BillStatusQuery | None = None) -> Page[BillOut]:
    items, total = await household_page(db, views.household_bills(status),
                                        household_params(actor), paging.limit, paging.offset)
    return Page[BillOut].model_validate(page_of(items, total, paging))


@router.get("/me/bills/{bill_id}")
async def my_bill(bill_id: Id, actor: ActorDep, db: SessionDep) -> BillDetailOut:
    return BillDetailOut.model_validate(await views.bill_detail(db, actor, bill_id))


Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(name: str, rows: list[dict[str, Any]], form: Format) -> Any:
    if form == "json":
        # Decimals as strings: FastAPI's encoder would turn them into floats.
        return JSONResponse({"report": name, "rows": [
            {k: str(v) if isinstance(v, Decimal | date) else v for k, v in row.items()}
            for row in rows]})
    if form == "csv":
        return Response(reports.as_csv(rows), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(reports.as_xlsx(rows, name), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/billing/reports/ageing")
async def ageing_report(actor: ActorDep, db: SessionDep, hub: HubDep, site_id: Id,
                        as_of: date | None = None,
                        by: Literal["unit", "building"] = "unit",
                        format: Format = "json") -> Any:
    """Arrears ageing: outstanding by days overdue (0-30, 31-90, 91-180, >180)."""
    rows = await reports.ageing(db, actor, site_id, as_of or hub.clock().date(), by)
    return _report(f"ageing-by-{by}", rows, format)


@router.get("/billing/reports/collection")
async def collection_report(actor: ActorDep, db: SessionDep, site_id: Id,
                            by: Literal["period", "building", "fee_item"] = "period",
                            period: Period | None = None,
                            format: Format = "json") -> Any:
    """收缴率: collected ÷ billed, by period, building or fee item."""
    rows = await reports.collection(db, actor, site_id, by, period)
    return _report(f"collection-by-{by}", rows, format)


@router.get("/billing/reports/revenue")
async def revenue_report(actor: ActorDep, db: SessionDep, site_id: Id,
                         first: Annotated[date, Query(alias="from")],
                         last: Annotated[date, Query(alias="to", description="exclusive")],
                         format: Format = "json") -> Any:
    """Money received onto bills per fee item in [from, to), net of refunds."""
    rows = await reports.revenue(db, actor, site_id, datetime.combine(first, time(), UTC),
                                 datetime.combine(last, time(), UTC))
    return _report("revenue", rows, format)


@router.get("/billing/reports/arrears")
async def arrears_report(actor: ActorDep, db: SessionDep, hub: HubDep, site_id: Id,
                         as_of: date | None = None,
                         format: Format = "json") -> Any:
    """Overdue and unpaid, per building."""
    rows = await reports.arrears(db, actor, site_id, as_of or hub.clock().date())
    return _report("arrears-by-building", rows, format)
