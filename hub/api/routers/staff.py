"""Accounts of staff (and residents' app accounts), their roles and grants; the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import MAX_ID, Created, Id, Page
from hub.api.schemas.people import AccountIn, AccountOut, AccountPatch, AuditOut
from hub.domain import commands as c
from hub.domain.accounts import Role
from hub.domain.audit import AuditAction
from hub.domain.errors import NotFound
from hub.store.tables import accounts
from hub.views import people as views
from hub.views.property import page

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.get("/staff")
async def list_accounts(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        role: Role | None = None, site_id: Id | None = None) -> Page[AccountOut]:
    ids, total = await page(db, views.account_query(actor, role=role, site_id=site_id),
                            paging.limit, paging.offset)
    items = await views.present_accounts(db, [row["id"] for row in ids])
    return Page[AccountOut].model_validate(page_of(items, total, paging))


@router.post("/staff", status_code=201)
async def create_account(body: AccountIn, actor: ActorDep, bus: BusDep) -> Created:
    command = c.CreateAccount(
        actor, username=body.username, password=body.password.get_secret_value(),
        role=body.role, display_name=body.display_name, resident_id=body.resident_id,
        grants=tuple(c.GrantIn(g.site_id, g.building_id) for g in body.grants))
    return Created(id=await bus.handle(command))


@router.get("/staff/{account_id}")
async def get_account(account_id: Id, actor: ActorDep, db: SessionDep) -> AccountOut:
    found = (await db.execute(views.account_query(actor).where(
        accounts.c.id == account_id))).first()
    if found is None:
        raise NotFound("account", account_id)
    return AccountOut.model_validate((await views.present_accounts(db, [account_id]))[0])


@router.patch("/staff/{account_id}", status_code=204)
async def change_account(account_id: Id, body: AccountPatch, actor: ActorDep,
                         bus: BusDep) -> None:
    grants = None if body.grants is None else tuple(
        c.GrantIn(g.site_id, g.building_id) for g in body.grants)
    await bus.handle(c.UpdateAccount(
        actor, account_id, role=body.role, display_name=body.display_name, active=body.active,
        password=body.password.get_secret_value() if body.password else None, grants=grants))


@router.get("/audit")
async def read_audit_log(
    db: SessionDep, paging: PagingDep, action: AuditAction | None = None,
    actor_id: Annotated[int | None, Query(ge=0, le=MAX_ID, description="0: the system")] = None,
    target: Annotated[str | None, Query(max_length=120)] = None,
) -> Page[AuditOut]:
    items, total = await page(db, views.audit_query(action=action, actor_id=actor_id,
                                                    target=target), paging.limit, paging.offset)
    return Page[AuditOut].model_validate(page_of(items, total, paging))
