"""Parking tariffs for staff: list, create, read, add a version, and quote a stay."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.tariffs import (
    CapWindowOut,
    QuoteIn,
    QuoteLineOut,
    QuoteOut,
    TariffIn,
    TariffOut,
    VersionIn,
)
from hub.domain.parking.quote import Coupon, PriorCharge
from hub.handlers import tariffs as h
from hub.views import tariffs as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1/parking/tariffs", tags=["parking"])


@router.get("")
async def list_tariffs(actor: ActorDep, db: SessionDep, paging: PagingDep,
                       site_id: Id | None = None) -> Page[TariffOut]:
    items, total = await page(db, views.tariff_query(actor, site_id), paging.limit,
                              paging.offset)
    items = await views.with_versions(db, items)
    return Page[TariffOut].model_validate(page_of(items, total, paging))


@router.post("", status_code=201)
async def create_tariff(body: TariffIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.CreateTariff(
        actor, body.site_id, body.code, body.name, body.effective_from,
        body.rules.model_dump(mode="json"))))


@router.get("/{tariff_id}")
async def get_tariff(tariff_id: Id, actor: ActorDep, db: SessionDep) -> TariffOut:
    found = await one(db, views.tariff_query(actor, tariff_id=tariff_id), "tariff", tariff_id)
    return TariffOut.model_validate((await views.with_versions(db, [found]))[0])


@router.post("/{tariff_id}/versions", status_code=201)
async def add_version(tariff_id: Id, body: VersionIn, actor: ActorDep, bus: BusDep) -> Created:
    """A new version from `effective_from` (not in the past) on; stays that entered before it
    keep the version in force at their entry."""
    return Created(id=await bus.handle(h.AddTariffVersion(
        actor, tariff_id, body.effective_from, body.rules.model_dump(mode="json"))))


@router.post("/{tariff_id}/quote")
async def quote_stay(tariff_id: Id, body: QuoteIn, actor: ActorDep, bus: BusDep) -> QuoteOut:
    """The itemised fee of any stay by the version in force at its entry: nothing is written,
    so staff can try a stay before and after publishing a version."""
    quoted = await bus.handle(h.QuoteStay(
        actor, tariff_id, body.entry, body.exit, body.vehicle_class, body.plate_color,
        tuple(Coupon(c.kind, c.value, c.code) for c in body.coupons),
        tuple(PriorCharge(p.entry, p.exit, p.amount) for p in body.prior_charges)))
    result = quoted.quote
    return QuoteOut(tariff_id=quoted.tariff_id, version=quoted.version,
                    effective_from=quoted.effective_from, currency=result.currency,
                    total=result.total,
                    lines=[QuoteLineOut.model_validate(line) for line in result.lines],
                    windows=[CapWindowOut.model_validate(w) for w in result.windows])
