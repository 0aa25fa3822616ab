"""Who a notification goes to: the accounts of a role in a site, the residents of a building,
of a site or of units (accounts of residents living there on the day)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.accounts import Role
from hub.domain.notifications import NotificationPreference
from hub.store.notice_tables import notification_preferences
from hub.store.tables import account_grants, accounts, residencies, units


class SqlDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _ids(self, query: Select[Any]) -> list[int]:
        async with self._sessions() as session:
            return sorted({int(i) for i in (await session.scalars(query)).all()})

    async def staff(self, site_id: int, role: Role) -> list[int]:
        """Active accounts of `role` granted the site (whole, or a building of it); for the
        administrator role, every active administrator (they hold every site)."""
        query = select(accounts.c.id).where(accounts.c.role == role, accounts.c.active)
        if role != Role.ADMIN:
            in_site = select(account_grants.c.account_id).where(
                account_grants.c.site_id == site_id)
            query = query.where(accounts.c.id.in_(in_site))
        return await self._ids(query)

    async def residents(self, on: date, *, site_id: int | None = None,
                        building_ids: Iterable[int] = (),
                        unit_ids: Iterable[int] = ()) -> list[int]:
        """Active resident accounts living (on the day) in the site, buildings or units."""
        where = []
        if site_id is not None:
            where.append(units.c.site_id == site_id)
        if wanted := list(building_ids):
            where.append(units.c.building_id.in_(wanted))
        if wanted := list(unit_ids):
            where.append(units.c.id.in_(wanted))
        if not where:
            return []
        living = select(residencies.c.resident_id).join(
            units, units.c.id == residencies.c.unit_id).where(
            or_(*where), residencies.c.moved_in <= on,
            or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > on))
        return await self._ids(select(accounts.c.id).where(
            accounts.c.role == Role.RESIDENT, accounts.c.active,
            accounts.c.resident_id.in_(living)))

    async def preferences(self, account_ids: Iterable[int]) -> dict[int, NotificationPreference]:
        wanted = sorted(set(account_ids))
        if not wanted:
            return {}
        async with self._sessions() as session:
            found = (await session.scalars(select(NotificationPreference).where(
                notification_preferences.c.account_id.in_(wanted)))).all()
            session.expunge_all()
        return {p.account_id: p for p in found}
