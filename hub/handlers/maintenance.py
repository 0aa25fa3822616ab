"""Preventive maintenance plans by staff, and the plans' side of work orders: an order opened
for a plan is followed until it is resolved (the checklist recorded, the next service
scheduled) or reopened (the service did not count).

Orders are opened only through the bus, with RaiseFault(source=MAINTENANCE_PLAN,
fault="plan:<id>"); the work-order module owns them and announces what became of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hub.domain.accounts import Actor
from hub.domain.commands import Command
from hub.domain.errors import DomainError, Invalid, NotFound
from hub.domain.maintenance import (
    Anchor,
    MaintenancePlan,
    MaintenanceRun,
    adopt_baselines,
    check_plan,
    complete,
    reopen,
    skip,
)
from hub.domain.maintenance_templates import Template, templates_from
from hub.domain.outcomes import (
    OrderCancelled,
    OrderOpened,
    OrderReopened,
    OrderResolved,
    OrderSource,
)
from hub.domain.registry import Asset
from hub.handlers import facilities
from hub.handlers.facilities import visible_asset
from hub.handlers.maintenance_usage import RecordUsage, asset_totals, record_usage
from hub.handlers.scope import managed_site, visible_building
from hub.ports import UnitOfWork

SHIPPED_TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "maintenance"
EDITABLE = frozenset({"name", "checklist", "next_due", "anchor", "every_trips",
                      "every_run_hours", "lead_hours", "active"})


class TemplateError(ValueError):
    """A template file that cannot be used: names the file and the template."""


def load_templates(folder: Path = SHIPPED_TEMPLATES) -> dict[str, Template]:
    """Every template of every *.yaml in the folder, by id (ids are unique across files)."""
    found: dict[str, Template] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            loaded = templates_from(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, DomainError) as err:
            where = f":{err.field}" if isinstance(err, DomainError) and err.field else ""
            raise TemplateError(f"{path.name}{where}: {err}") from None
        for name, template in loaded.items():
            if name in found:
                raise TemplateError(f"{path.name}:{name}: template id used by another file")
            found[name] = template
    return found


@cache
def shipped_templates() -> dict[str, Template]:
    return load_templates()


@dataclass(frozen=True, kw_only=True)
class CreatePlan(Command):
    asset_id: int
    name: str
    checklist: tuple[str, ...]
    first_due: datetime | None = None
    every_days: int | None = None
    every_months: int | None = None
    anchor: Anchor = Anchor.SCHEDULE
    every_trips: int | None = None
    every_run_hours: int | None = None
    lead_hours: int = 72
    category: str | None = None  # dispatch category of its orders; the asset's by default


@dataclass(frozen=True, kw_only=True)
class CreatePlanFromTemplate(Command):
    """A plan for an asset from a shipped template; usage triggers may be added to it."""

    asset_id: int
    template: str
    first_due: datetime
    every_trips: int | None = None
    every_run_hours: int | None = None
    lead_hours: int | None = None
    anchor: Anchor | None = None


@dataclass(frozen=True, kw_only=True)
class CreatePlansForCategory(Command):
    """Plans for every asset of one type (category) in a site or building, from a template."""

    site_id: int
    category: str
    template: str
    first_due: datetime
    building_id: int | None = None
    every_trips: int | None = None
    every_run_hours: int | None = None
    lead_hours: int | None = None
    anchor: Anchor | None = None


@dataclass(frozen=True)
class ChangePlan(Command):
    plan_id: int
    changes: Mapping[str, Any]


async def create_plan(cmd: CreatePlan, uow: UnitOfWork) -> int:
    asset = await visible_asset(uow, cmd.actor, cmd.asset_id)
    assert asset.id is not None
    plan = MaintenancePlan(
        site_id=asset.site_id, asset_id=asset.id, name=cmd.name,
        category=cmd.category or asset.category, checklist=list(cmd.checklist),
        next_due=cmd.first_due, every_days=cmd.every_days, every_months=cmd.every_months,
        anchor=cmd.anchor, every_trips=cmd.every_trips, every_run_hours=cmd.every_run_hours,
        lead_hours=cmd.lead_hours)
    return await _add(uow, plan)


async def create_plan_from_template(
        cmd: CreatePlanFromTemplate, uow: UnitOfWork,
        maintenance_templates: Mapping[str, Template] | None = None) -> int:
    """`maintenance_templates`: loaded (and checked) at start-up; the shipped ones if None."""
    template = _template(cmd.template, maintenance_templates)
    asset = await visible_asset(uow, cmd.actor, cmd.asset_id)
    return await _add(uow, _from_template(template, asset, cmd))


async def create_plans_for_category(
        cmd: CreatePlansForCategory, uow: UnitOfWork,
        maintenance_templates: Mapping[str, Template] | None = None) -> list[int]:
    """A plan per asset of a type (in a site, or one building of it), from one template;
    assets that already have a plan from that template are left as they are."""
    template = _template(cmd.template, maintenance_templates)
    if cmd.building_id is None:
        await managed_site(uow, cmd.actor, cmd.site_id)
        found = await uow.find(Asset, site_id=cmd.site_id, category=cmd.category)
    else:
        building = await visible_building(uow, cmd.actor, cmd.building_id)
        if building.site_id != cmd.site_id:
            raise Invalid("the building must be in the site", field="building_id")
        found = await uow.find(Asset, site_id=cmd.site_id, category=cmd.category,
                               building_id=cmd.building_id)
    plans = []
    for asset in sorted(found, key=lambda a: a.id or 0):
        if not await uow.find_one(MaintenancePlan, asset_id=asset.id, template=template.id):
            plan = _from_template(template, asset, cmd)
            adopt_baselines(plan, await asset_totals(uow, plan.asset_id))
            uow.add(plan)
            plans.append(plan)
    await uow.commit()
    return [plan.id for plan in plans if plan.id is not None]


def _template(name: str, given: Mapping[str, Template] | None) -> Template:
    known = shipped_templates() if given is None else given
    if name not in known:
        raise Invalid(f"no maintenance template {name!r}; known: {', '.join(sorted(known))}",
                      field="template")
    return known[name]


def _from_template(template: Template, asset: Asset,
                   cmd: CreatePlanFromTemplate | CreatePlansForCategory) -> MaintenancePlan:
    assert asset.id is not None
    return MaintenancePlan(
        site_id=asset.site_id, asset_id=asset.id, name=template.name,
        category=asset.category, checklist=list(template.items), next_due=cmd.first_due,
        every_days=template.every_days, every_months=template.every_months,
        anchor=cmd.anchor or template.anchor, every_trips=cmd.every_trips,
        every_run_hours=cmd.every_run_hours,
        lead_hours=template.lead_hours if cmd.lead_hours is None else cmd.lead_hours,
        template=template.id)


async def _add(uow: UnitOfWork, plan: MaintenancePlan) -> int:
    # Usage counts from now: what the asset's counters read is the base.
    adopt_baselines(plan, await asset_totals(uow, plan.asset_id))
    uow.add(plan)
    await uow.commit()
    assert plan.id is not None
    return plan.id


async def change_plan(cmd: ChangePlan, uow: UnitOfWork) -> None:
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on a plan", field=name)
    plan = await visible_plan(uow, cmd.actor, cmd.plan_id)
    if "next_due" in cmd.changes and cmd.changes["next_due"] is None:
        raise Invalid("next_due cannot be removed", field="next_due")
    for name, value in cmd.changes.items():
        setattr(plan, name, list(value) if name == "checklist" else value)
    check_plan(plan)  # refused: the unit of work ends without a commit, nothing is stored
    adopt_baselines(plan, await asset_totals(uow, plan.asset_id))
    await uow.commit()


async def visible_plan(uow: UnitOfWork, actor: Actor, plan_id: int) -> MaintenancePlan:
    plan = await uow.get(MaintenancePlan, plan_id)
    if plan is None:
        raise NotFound("maintenance plan", plan_id)
    try:
        await visible_asset(uow, actor, plan.asset_id)
    except NotFound:
        raise NotFound("maintenance plan", plan_id) from None
    return plan


async def plan_of(uow: UnitOfWork, fault: str,
                  source: OrderSource | None = None) -> MaintenancePlan | None:
    """The plan a work order belongs to, by its fault key "plan:<id>"."""
    if source not in (None, OrderSource.MAINTENANCE_PLAN) or not fault.startswith("plan:"):
        return None
    ident = fault.removeprefix("plan:")
    return await uow.get(MaintenancePlan, int(ident)) if ident.isdigit() else None


async def on_order_opened(event: OrderOpened, uow: UnitOfWork) -> None:
    plan = await plan_of(uow, event.fault, event.source)
    if plan is None:
        return
    plan.order_id = event.order_id
    plan.requested_at = plan.requested_at or event.at
    await uow.commit()


async def on_order_resolved(event: OrderResolved, uow: UnitOfWork) -> None:
    """The service is done: its checklist on the plan's history, the next one scheduled."""
    plan = await plan_of(uow, event.fault, event.source)
    if plan is None or not plan.in_flight or plan.order_id not in (None, event.order_id):
        return  # not ours, or heard before
    run = complete(plan, event.order_id, event.at, event.checklist,
                   await asset_totals(uow, plan.asset_id))
    uow.add(run)
    await uow.commit()


async def on_order_cancelled(event: OrderCancelled, uow: UnitOfWork) -> None:
    """Staff cancelled the plan's order: the service is skipped, the next one scheduled."""
    plan = await plan_of(uow, event.fault, event.source)
    if plan is None or not plan.in_flight or plan.order_id not in (None, event.order_id):
        return  # not ours, or heard before
    skip(plan, event.at, await asset_totals(uow, plan.asset_id))
    await uow.commit()


async def on_order_reopened(event: OrderReopened, uow: UnitOfWork) -> None:
    plan = await plan_of(uow, event.fault)
    if plan is None or plan.order_id == event.order_id:
        return
    runs = [r for r in await uow.find(MaintenanceRun, plan_id=plan.id, order_id=event.order_id)
            if not r.reopened]
    if not runs:
        return
    reopen(plan, max(runs, key=lambda r: r.completed_at))
    await uow.commit()


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreatePlan: create_plan,
    CreatePlanFromTemplate: create_plan_from_template,
    CreatePlansForCategory: create_plans_for_category,
    ChangePlan: change_plan,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {
    OrderOpened: [on_order_opened],
    OrderResolved: [on_order_resolved],
    OrderReopened: [on_order_reopened],
    OrderCancelled: [on_order_cancelled],
}


# What hub.bootstrap registers for facilities and maintenance together.
FACILITY_COMMANDS: dict[type, Callable[..., Any]] = {
    **facilities.COMMAND_HANDLERS, **COMMAND_HANDLERS, RecordUsage: record_usage}
FACILITY_EVENTS: dict[type, list[Callable[..., Any]]] = {
    kind: [*facilities.EVENT_HANDLERS.get(kind, []), *EVENT_HANDLERS.get(kind, [])]
    for kind in (*facilities.EVENT_HANDLERS, *EVENT_HANDLERS)}
