"""The resident app's household part: my units, my household, and a summary of what waits."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from hub.api.deps import ActorDep, HubDep, SessionDep
from hub.api.schemas.ownership import HouseholdMemberOut, MeSummaryOut, MyUnitOut
from hub.views import billing as billing_views
from hub.views import household as views
from hub.views.notifications import unread_count

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get("")
async def my_summary(actor: ActorDep, db: SessionDep, hub: HubDep) -> MeSummaryOut:
    """Counts for the app's home screen: units, household members, unpaid bills (open or
    partly paid), unread notifications."""
    today = hub.clock().date()
    units = await views.my_units(db, actor, today)
    members = await views.my_household(db, actor, today)
    bills = billing_views.bill_query(actor).subquery()
    unpaid = await db.scalar(select(func.count()).select_from(bills)
                             .where(bills.c.status != "paid"))
    return MeSummaryOut(resident_id=actor.resident_id, units=len(units),
                        household_members=len(members), unpaid_bills=int(unpaid or 0),
                        unread_notifications=await unread_count(db, actor.account_id))


@router.get("/units")
async def my_units(actor: ActorDep, db: SessionDep, hub: HubDep) -> list[MyUnitOut]:
    """The units I live in today, with my relation to each."""
    rows = await views.my_units(db, actor, hub.clock().date())
    return [MyUnitOut.model_validate(row) for row in rows]


@router.get("/household")
async def my_household(actor: ActorDep, db: SessionDep, hub: HubDep) -> list[HouseholdMemberOut]:
    """Who lives in my units today, phones masked (mine aside); nothing of another household."""
    rows = await views.my_household(db, actor, hub.clock().date())
    return [HouseholdMemberOut.model_validate(row) for row in rows]
