"""Preventive maintenance: templates, plans per asset (or from a template), their services."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.facilities import (
    CreatedPlans,
    PlanFromTemplateIn,
    PlanIn,
    PlanOut,
    PlanPatch,
    PlansForCategoryIn,
    RunOut,
    TemplateOut,
)
from hub.handlers import maintenance as h
from hub.store.facility_tables import maintenance_plans
from hub.views import facilities as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1/maintenance", tags=["maintenance"])
USAGE_TRIGGERS = frozenset({"every_trips", "every_run_hours"})


@router.get("/templates")
async def list_templates() -> list[TemplateOut]:
    """The shipped plan templates (config/maintenance), e.g. TSG T5002's four intervals."""
    return [TemplateOut.model_validate({**vars(t), "items": list(t.items)})
            for t in h.shipped_templates().values()]


@router.get("/plans")
async def list_plans(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     asset_id: Id | None = None, site_id: Id | None = None) -> Page[PlanOut]:
    query = views.plan_query(actor, asset_id=asset_id, site_id=site_id)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[PlanOut].model_validate(page_of(await views.with_usage(db, items), total,
                                                paging))


@router.post("/plans", status_code=201)
async def create_plan(body: PlanIn, actor: ActorDep, bus: BusDep) -> Created:
    values = body.model_dump(exclude={"checklist"})
    return Created(id=await bus.handle(h.CreatePlan(
        actor=actor, **values, checklist=tuple(body.checklist))))


@router.post("/plans/from-template", status_code=201)
async def create_plan_from_template(body: PlanFromTemplateIn, actor: ActorDep,
                                    bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.CreatePlanFromTemplate(actor=actor,
                                                                **body.model_dump())))


@router.post("/plans/for-category", status_code=201)
async def create_plans_for_category(body: PlansForCategoryIn, actor: ActorDep,
                                    bus: BusDep) -> CreatedPlans:
    """A plan from a template for every asset of one type (e.g. every elevator of a site)."""
    return CreatedPlans(ids=await bus.handle(h.CreatePlansForCategory(actor=actor,
                                                                      **body.model_dump())))


@router.get("/plans/{plan_id}")
async def get_plan(plan_id: Id, actor: ActorDep, db: SessionDep) -> PlanOut:
    query = views.plan_query(actor).where(maintenance_plans.c.id == plan_id)
    found = await one(db, query, "maintenance plan", plan_id)
    return PlanOut.model_validate((await views.with_usage(db, [found]))[0])


@router.patch("/plans/{plan_id}", status_code=204)
async def change_plan(plan_id: Id, body: PlanPatch, actor: ActorDep, bus: BusDep) -> None:
    """A usage trigger is removed with null (a plan keeps at least one trigger)."""
    await bus.handle(h.ChangePlan(actor, plan_id, set_fields(body, USAGE_TRIGGERS)))


@router.get("/plans/{plan_id}/runs")
async def list_runs(plan_id: Id, actor: ActorDep, db: SessionDep,
                    paging: PagingDep) -> Page[RunOut]:
    """The plan's services, newest first, each with its checklist as the order reported it."""
    await views.visible_plan(db, actor, plan_id)
    items, total = await page(db, views.run_query(plan_id), paging.limit, paging.offset)
    return Page[RunOut].model_validate(page_of([views.run_out(r) for r in items], total,
                                               paging))
