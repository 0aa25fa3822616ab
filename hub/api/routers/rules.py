"""The rules: what is loaded (ids, versions), validation, reload, replay, and the outcomes
they caused with the events behind each (the chain from a device event to an order)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from hub.api.deps import ActorDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Id, Page
from hub.api.schemas.rules import (
    OutcomeOut,
    ReloadOut,
    ReplayedOut,
    ReplayOut,
    RuleOut,
    RulesOut,
    ValidateIn,
    ValidationOut,
)
from hub.domain.errors import Conflict, Invalid
from hub.rules.actions import describe
from hub.rules.loader import RuleError, RuleSet, load_dir, load_texts
from hub.rules.replay import replay
from hub.store.rule_tables import rule_outcomes
from hub.views.scoping import site_filter

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])

MAX_REPLAYED = 10_000
RuleQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
StatusQuery = Annotated[str | None, Query(pattern=r"^(done|skipped|refused|dead_letter)$")]


@router.get("")
async def list_rules(hub: HubDep) -> RulesOut:
    runner = hub.rules
    if runner is None:
        return RulesOut(directory=None, items=[], total=0)
    items = [RuleOut(id=r.id, version=r.version, file=r.file, description=r.rule.description,
                     enabled=r.rule.enabled, event=r.rule.when.event,
                     actions=[a.name for a in r.rule.then]) for r in runner.rules.rules]
    directory = str(runner.directory) if runner.directory else None
    return RulesOut(directory=directory, items=items, total=len(items))


@router.post("/validate")
async def validate(hub: HubDep, body: ValidateIn | None = None) -> ValidationOut:
    """A rule file in the body, or (without a body) the hub's folder as it is now on disk."""
    try:
        if body is not None:
            rules = load_texts([(body.name, body.yaml)])
        else:
            rules = load_dir(_directory(hub))
    except RuleError as err:
        return ValidationOut(valid=False, rules=0, problems=list(err.problems))
    return ValidationOut(valid=True, rules=len(rules.rules), problems=[])


@router.post("/reload")
async def reload(hub: HubDep) -> ReloadOut:
    """Read the folder again and swap the rules in, keeping their state; a folder with a bad
    rule changes nothing (422 naming every problem)."""
    if hub.rules is None:
        raise Conflict("the rules engine is not running in this hub")
    try:
        rules = hub.rules.reload()
    except RuleError as err:
        raise Invalid("the rules were not reloaded: " + "; ".join(err.problems[:20]),
                      field="rules") from None
    return ReloadOut(rules=len(rules.rules), versions={r.id: r.version for r in rules.rules})


@router.post("/replay", openapi_extra={"requestBody": {"content": {
    "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def replay_events(hub: HubDep, request: Request) -> ReplayOut:
    """The body: recorded events, one JSON object per line (docs/rules.md), run through the
    running rules from an empty state. Nothing is sent, nothing stored."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the body must be UTF-8 text, one JSON event per line",
                      field="body") from None
    result = replay(text.splitlines(), _running(hub))
    shown = [ReplayedOut(at=f.at, rule_id=f.rule_id, rule_version=f.version,
                         command=f.command_kind, device_id=f.device_id, line=describe(f))
             for f in result.fired[:MAX_REPLAYED]]
    return ReplayOut(events=result.events, outcomes=shown,
                     truncated=len(result.fired) > MAX_REPLAYED, problems=result.problems[:100])


@router.get("/outcomes")
async def list_outcomes(
    actor: ActorDep, db: SessionDep, paging: PagingDep, rule: RuleQuery = None,
    device_id: Id | None = None, since: datetime | None = None, status: StatusQuery = None,
) -> Page[OutcomeOut]:
    """Newest first; only those of the caller's sites."""
    query = select(rule_outcomes).where(site_filter(actor, rule_outcomes.c.site_id))
    if rule is not None:
        query = query.where(rule_outcomes.c.rule_id == rule)
    if device_id is not None:
        query = query.where(rule_outcomes.c.device_id == device_id)
    if since is not None:
        if since.tzinfo is None:
            raise Invalid("since needs a time zone, e.g. 2026-11-27T08:00:00Z", field="since")
        query = query.where(rule_outcomes.c.at >= since)
    if status is not None:
        query = query.where(rule_outcomes.c.status == status)
    total = (await db.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await db.execute(query.order_by(rule_outcomes.c.at.desc(), rule_outcomes.c.id.desc())
                            .limit(paging.limit).offset(paging.offset))
    items = [dict(r._mapping) for r in rows]
    return Page[OutcomeOut].model_validate(page_of(items, total, paging))


def _running(hub: HubDep) -> RuleSet:
    if hub.rules is None:
        raise Conflict("the rules engine is not running in this hub")
    return hub.rules.rules


def _directory(hub: HubDep) -> Path:
    if hub.rules is None or hub.rules.directory is None:
        raise Conflict("this hub has no rules folder")
    return hub.rules.directory
